/** "in 15 minutes", from a Retry-After in seconds */
export function retryWording(seconds: number | undefined): string {
  if (seconds === undefined) return 'in a few minutes'
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? '' : 's'}`
  const minutes = Math.ceil(seconds / 60)
  return `in ${minutes} minute${minutes === 1 ? '' : 's'}`
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
/** a date and time in the reader's locale, or "never" */
export const formatDateTime = (iso: string | null) => (iso ? dateTime.format(new Date(iso)) : 'never')
