// Unit tests read inputs from process.env like the runner's INPUT_* variables. Start every test
// file without the variables of whatever runner is running Jest, so nothing leaks in or out.
for (const key of Object.keys(process.env)) {
  if (/^(INPUT_|STATE_|GITHUB_OUTPUT|GITHUB_STATE|GITHUB_STEP_SUMMARY|GITHUB_ENV|GITHUB_PATH)/.test(key)) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- process.env has no other way to unset
    delete process.env[key]
  }
}
