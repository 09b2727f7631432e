import { context } from '@actions/github'

/** The repository's short name, for default image names: "octo-org/My.Repo" → "my.repo". */
export function repositoryName(): string {
  // context.repo throws outside a workflow (no GITHUB_REPOSITORY); fall back to the folder name.
  const repo = (process.env.GITHUB_REPOSITORY ? context.repo.repo : process.cwd().split('/').pop()) || 'app'
  return repo.toLowerCase()
}

/** The commit being built (GITHUB_SHA); undefined outside a workflow. */
export function commitSha(): string | undefined {
  return context.sha || undefined
}

/** Link to this workflow run, for summaries and service tags. */
export function runUrl(): string | undefined {
  if (!context.runId || !process.env.GITHUB_REPOSITORY) return undefined
  return `${context.serverUrl}/${process.env.GITHUB_REPOSITORY}/actions/runs/${context.runId}`
}
