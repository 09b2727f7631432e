// Stands in for undici inside @actions/http-client, which needs it only for ProxyAgent (Octokit
// behind a proxy and OIDC helpers these actions never call). Bundling the real one would add
// ~400 KB to every action; the HTTP probe imports the real undici directly.
// eslint-disable-next-line @typescript-eslint/no-extraneous-class -- the shape http-client imports
export class ProxyAgent {
  constructor() {
    throw new Error('undici ProxyAgent is not bundled in ecs-lockstep actions')
  }
}
