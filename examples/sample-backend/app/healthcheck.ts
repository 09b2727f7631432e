// For a container health check in a task definition (the image has no shell or curl):
//   ["CMD", "/usr/local/bin/node", "/app/main.ts", "healthcheck", "http://localhost:8000/health"]
const url = process.argv[3] || `http://localhost:${process.env.PORT || 8000}/health`
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) })
  console.log(`healthcheck: GET ${url} answered ${response.status}`)
  process.exit(response.ok ? 0 : 1)
} catch (error) {
  console.log(`healthcheck: GET ${url} failed: ${(error as Error).message}`)
  process.exit(1)
}

// A module (not a script), for top-level await.
export {}
