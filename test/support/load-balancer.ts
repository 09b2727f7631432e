import { request } from 'node:http'

/**
 * Opens a request through the load balancer that the target answers only when its container
 * exits (the simulated runtime's `holdPath`): a connection in flight. Returns how to drop it.
 */
export function holdConnection(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      res.once('data', () => resolve(() => req.destroy()))
      res.on('error', () => {})
    })
    req.on('error', (error) => reject(error))
    req.end()
  })
}

/**
 * A client that always has a long poll open through the load balancer, reopening it (every
 * 100 ms while nothing answers) whenever it ends: so each draining target keeps a connection for
 * its whole deregistration delay, as with a live service's clients. Returns how to stop it.
 */
export function keepLongPollOpen(url: string): () => void {
  let stopped = false
  let current: ReturnType<typeof request> | undefined
  const open = () => {
    if (stopped) return
    let reopening = false
    const again = () => {
      if (reopening) return
      reopening = true
      setTimeout(open, 100).unref()
    }
    const req = request(url, (res) => {
      res.on('data', () => {})
      res.on('error', () => {})
      res.on('close', again)
    })
    req.on('error', again)
    req.end()
    current = req
  }
  open()
  return () => {
    stopped = true
    current?.destroy()
  }
}
