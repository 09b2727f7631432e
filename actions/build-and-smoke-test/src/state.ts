/** GITHUB_STATE key under which the main step leaves its container's ID for the post step. */
export const CONTAINER_STATE = 'container-id'
