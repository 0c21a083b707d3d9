import type { ChatMessage } from '@chat/contract'
import { nameOf } from './user-name'

/** The reader's choice to hear a sound on a mention, kept in this browser. */
const SOUND_KEY = 'chat.mentionSound'

export const mentionSoundOn = (): boolean => localStorage.getItem(SOUND_KEY) === 'on'
export const setMentionSound = (on: boolean): void =>
  on ? localStorage.setItem(SOUND_KEY, 'on') : localStorage.removeItem(SOUND_KEY)

/** 'unsupported' where the browser has no Notification API (or the page is not a secure context). */
export const notificationPermission = (): NotificationPermission | 'unsupported' =>
  typeof Notification === 'undefined' ? 'unsupported' : Notification.permission

/** Asked only when the reader presses the button: browsers (and people) refuse prompts on load. */
export async function askNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (typeof Notification === 'undefined') return 'unsupported'
  return Notification.requestPermission()
}

/**
 * A message that mentions the reader: a browser notification when the tab is hidden (a visible tab
 * highlights it already), and a short tone when the reader asked for one.
 */
export function notifyMention(message: ChatMessage): void {
  if (document.hidden && notificationPermission() === 'granted') {
    // the message's seq as tag: one notification per message, even when delivered to two tabs
    new Notification(`${nameOf(message.author)} mentioned you in #${message.room}`, {
      body: message.deleted ? 'message deleted' : message.text.slice(0, 200),
      tag: `${message.room}:${message.seq}`,
    })
  }
  if (mentionSoundOn()) playTone()
}

function playTone(): void {
  const audio = new AudioContext()
  const tone = audio.createOscillator()
  const volume = audio.createGain()
  tone.frequency.value = 880
  volume.gain.setValueAtTime(0.1, audio.currentTime)
  volume.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.3)
  tone.connect(volume).connect(audio.destination)
  tone.start()
  tone.stop(audio.currentTime + 0.3)
  tone.onended = () => void audio.close()
}
