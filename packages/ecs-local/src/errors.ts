/**
 * An error in AWS's shape. `code` is the exception shape the SDK maps to a class
 * (ClusterNotFoundException, InvalidParameterException...); messages follow AWS's wording.
 */
export class AwsError extends Error {
  readonly code: string
  readonly status: number
  /** Query-protocol fault type: Sender for the caller's mistakes, Receiver for ours. */
  readonly fault: 'Sender' | 'Receiver'

  constructor(code: string, message: string, status = 400) {
    super(message)
    this.name = code
    this.code = code
    this.status = status
    this.fault = status >= 500 ? 'Receiver' : 'Sender'
  }
}

export const invalidParameter = (message: string) => new AwsError('InvalidParameterException', message)
export const clientException = (message: string) => new AwsError('ClientException', message)
