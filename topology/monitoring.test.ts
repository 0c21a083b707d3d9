import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'

const root = path.resolve(import.meta.dirname, '..')
const read = (file: string) => readFileSync(path.join(root, file), 'utf8')

interface Panel {
  id: number
  title: string
  datasource: { uid: string }
  gridPos: { x: number; y: number; w: number; h: number }
  targets: { expr: string; refId: string }[]
}
const dashboard = JSON.parse(read('docker/grafana/dashboards/chat.json')) as {
  uid: string
  title: string
  panels: Panel[]
}

/** promtool from Debian's `prometheus` package (.ci/run installs it); its output on failure. */
function promtool(args: string[]): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('promtool', args, { encoding: 'utf8', stdio: 'pipe' }) }
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string }
    return { ok: false, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` }
  }
}

describe('the Prometheus config and the Grafana dashboard', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'monitoring-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('pass promtool check config, and the check can fail', () => {
    const config = path.join(root, 'docker/prometheus/prometheus.yml')
    const checked = promtool(['check', 'config', config])
    expect(checked.output).toContain('SUCCESS')
    expect(checked.ok).toBe(true)
    const broken = path.join(dir, 'broken.yml')
    writeFileSync(broken, read('docker/prometheus/prometheus.yml').replace('type: A', 'type: NOPE'))
    expect(promtool(['check', 'config', broken]).ok).toBe(false)
  })

  it('scrape every api and ws replica on the metrics port compose gives them', () => {
    const config = parse(read('docker/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[]
    }
    const compose = parse(read('compose.yml')) as {
      'x-server': { environment: Record<string, string> }
    }
    const discovered = config.scrape_configs.flatMap((job) => job.dns_sd_configs ?? [])
    expect(discovered.flatMap((sd) => sd.names).sort()).toEqual(['api', 'ws'])
    for (const sd of discovered) expect(String(sd.port)).toBe(compose['x-server'].environment.METRICS_PORT)
  })

  it('has a dashboard whose every query is valid PromQL (promtool check rules), on the provisioned data source', () => {
    const datasources = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string }[]
    }
    const uid = datasources.datasources[0]!.uid
    expect(dashboard.uid).toBe('chat-overview')
    const queries = dashboard.panels.flatMap((panel) => {
      expect(panel.datasource.uid, panel.title).toBe(uid)
      expect(panel.targets.length, panel.title).toBeGreaterThan(0)
      return panel.targets.map((target) => target.expr)
    })
    // each query as a recording rule: promtool parses every expression
    const rules = path.join(dir, 'dashboard-rules.yml')
    const asRules = queries.map((expr, index) => ({ record: `dashboard:query_${index}`, expr }))
    writeFileSync(rules, JSON.stringify({ groups: [{ name: 'dashboard', rules: asRules }] }))
    const checked = promtool(['check', 'rules', rules])
    expect(checked.output).toContain(`SUCCESS: ${queries.length} rules found`)
    writeFileSync(
      rules,
      JSON.stringify({ groups: [{ name: 'broken', rules: [{ record: 'x:y', expr: 'sum(' }] }] }),
    )
    expect(promtool(['check', 'rules', rules]).ok).toBe(false)
  })

  it('lays the panels out without overlap, within the 24-column grid, with unique ids', () => {
    const cells = new Set<string>()
    for (const { gridPos, title } of dashboard.panels) {
      expect(gridPos.x + gridPos.w, title).toBeLessThanOrEqual(24)
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false)
          cells.add(`${x},${y}`)
        }
    }
    const ids = dashboard.panels.map((panel) => panel.id)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('shows what the issue asks for: connections, message rates, latencies, errors, logins, event loop, memory', () => {
    const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)).join('\n')
    for (const metric of [
      'chat_websocket_connections',
      'chat_messages_received_total',
      'chat_message_store_duration_seconds_bucket',
      'chat_bus_lag_seconds_bucket',
      'chat_http_requests_total',
      'chat_redis_errors_total',
      'chat_logins_total',
      'nodejs_eventloop_lag_p99_seconds',
      'process_resident_memory_bytes',
    ])
      expect(queries).toContain(metric)
  })
})
