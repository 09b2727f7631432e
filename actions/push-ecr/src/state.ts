/** GITHUB_STATE key: the registry the main step logged in to, for the post step's logout. */
export const LOGGED_IN_REGISTRY = 'logged-in-registry'
