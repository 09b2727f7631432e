// What the runner tells a step about its workflow, read from its environment variables. (Not
// @actions/github's context: importing it brings Octokit and undici, 500 KB, for three variables.)

/** The repository's short name, for default image names: "octo-org/My.Repo" → "my.repo". */
export function repositoryName(): string {
  const repo = process.env.GITHUB_REPOSITORY?.split('/')[1] || process.cwd().split('/').pop() || 'app'
  return repo.toLowerCase()
}

/** The commit being built (GITHUB_SHA); undefined outside a workflow. */
export function commitSha(): string | undefined {
  return process.env.GITHUB_SHA || undefined
}

/** Link to this workflow run, for summaries and service tags. */
export function runUrl(): string | undefined {
  const { GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: runId } = process.env
  if (!repository || !runId) return undefined
  return `${process.env.GITHUB_SERVER_URL || 'https://github.com'}/${repository}/actions/runs/${runId}`
}
