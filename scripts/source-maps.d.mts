export interface RawSourceMap {
  version: number
  sources: string[]
  names: string[]
  mappings: string
}

export function pruneSourceMap(map: RawSourceMap, keep: (source: string) => boolean): RawSourceMap | undefined

export function pruneSourceMaps(outputs: string[], keep: (source: string) => boolean): void
