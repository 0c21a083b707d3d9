import Bowser from 'bowser'

/** "Chrome 156 on Linux", "Safari 17 on iOS (iPhone)", or the raw agent when it names no browser. */
export function describeDevice(userAgent: string): string {
  if (!userAgent.trim()) return 'Unknown device'
  const { browser, os, platform } = Bowser.parse(userAgent)
  if (!browser.name) return userAgent.slice(0, 64)
  const version = browser.version?.split('.')[0]
  const where = [os.name, platform.model && `(${platform.model})`].filter(Boolean).join(' ')
  return `${browser.name}${version ? ` ${version}` : ''}${where ? ` on ${where}` : ''}`
}
