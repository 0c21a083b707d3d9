import { execFile, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { Redis } from 'ioredis'
import { freePort } from './ports.ts'
import { connectWhenUp, spawnRedisServer, stopRedisServer } from './redis-server.ts'

interface ClusterNode {
  port: number
  /** the cluster bus port, chosen free too (port + 10000 may be beyond 65535 or taken) */
  busPort: number
  dir: string
  child: ChildProcess
  client: Redis
}

export interface OwnRedisCluster {
  /** `host:port,…`, as REDIS_CLUSTER_NODES takes it */
  nodesVariable: string
  nodes: { host: string; port: number }[]
  /** a plain client of each master, for the test's own commands (PUBSUB, CLUSTER) */
  clients(): Redis[]
  /** the redis-server processes, now */
  pids(): number[]
  /** Kills master `index` (SIGKILL: a crash) and starts it again on its port with its nodes.conf and AOF. */
  restart(index: number, downMs?: number): Promise<void>
  stop(): Promise<void>
}

// A master is marked failing after 1 s unreachable, so a test sees the cluster go down and come back.
// appendfsync always: a crash loses nothing Redis acknowledged, as with the compose file's AOF.
const nodeOptions = (node: Pick<ClusterNode, 'busPort'>) => [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-port',
  String(node.busPort),
  '--cluster-node-timeout',
  '1000',
  '--appendonly',
  'yes',
  '--appendfsync',
  'always',
]

async function startNode(node: Omit<ClusterNode, 'child' | 'client'>): Promise<ClusterNode> {
  const child = spawnRedisServer(node.port, node.dir, nodeOptions(node))
  return { ...node, child, client: await connectWhenUp(`redis://127.0.0.1:${node.port}`) }
}

/** Until every node says the cluster is ok (all slots served, every master reachable). */
async function untilClusterOk(nodes: ClusterNode[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => node.client.cluster('INFO').catch(() => '')))
    if (infos.every((info) => String(info).includes('cluster_state:ok'))) return
    if (Date.now() > deadline) throw new Error(`the Redis Cluster did not become ok:\n${infos.join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A Redis Cluster of `masters` masters (no replicas) from Debian's redis-server, on free loopback ports. */
export async function startRedisCluster(masters = 3): Promise<OwnRedisCluster> {
  const root = mkdtempSync(path.join(tmpdir(), 'redis-cluster-'))
  const nodes: ClusterNode[] = []
  const stop = async () => {
    for (const node of nodes) node.client.disconnect()
    await Promise.all(nodes.map((node) => stopRedisServer(node.child)))
    rmSync(root, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < masters; i++) {
      const dir = path.join(root, String(i))
      mkdirSync(dir)
      nodes.push(await startNode({ port: await freePort(), busPort: await freePort(), dir }))
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`)
    // redis-cli splits the 16384 slots evenly and waits until every node agrees on the configuration
    await promisify(execFile)('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-yes'])
    await untilClusterOk(nodes)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    nodesVariable: nodes.map((node) => `127.0.0.1:${node.port}`).join(','),
    nodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    clients: () => nodes.map((node) => node.client),
    pids: () => nodes.map((node) => node.child.pid!),
    async restart(index, downMs = 2_000) {
      const node = nodes[index]!
      node.client.disconnect()
      await stopRedisServer(node.child, 'SIGKILL')
      await new Promise((resolve) => setTimeout(resolve, downMs))
      nodes[index] = await startNode(node)
      await untilClusterOk(nodes)
    },
    stop,
  }
}
