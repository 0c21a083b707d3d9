import { DEFAULT_ROOM } from '@chat/contract'

/** where a room is shown: the chat's own address for the default room, /rooms/<name> for any other */
export const roomRoute = (room: string) =>
  room === DEFAULT_ROOM ? { name: 'chat' } : { name: 'room', params: { room } }
