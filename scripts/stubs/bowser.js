// Stands in for bowser, a browser user-agent parser that the AWS SDK imports (dynamically) only
// when it runs in a browser. These bundles run in Node, where that import never happens.
export function parse() {
  return {}
}
export default { parse }
