/** What a SigV4 Authorization header says about a request. Signatures are not checked: this is a local endpoint. */
export interface Credential {
  accessKeyId: string
  region: string
  service: string
}

const CREDENTIAL = /Credential=([^/,\s]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/

export function readCredential(authorization: string | undefined): Credential | undefined {
  const match = authorization ? CREDENTIAL.exec(authorization) : null
  if (!match) return undefined
  const [, accessKeyId, region, service] = match as unknown as [string, string, string, string]
  return { accessKeyId, region, service }
}
