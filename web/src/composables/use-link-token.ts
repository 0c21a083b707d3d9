import { onMounted } from 'vue'
import { useRoute, useRouter } from 'vue-router'

/**
 * The token of a mailed link, from the URL's fragment (`#token=…`), which no server or log sees; it is
 * taken off the address bar at once, so it is not left in the history or shared by a copied address.
 */
export function useLinkToken(): string | null {
  const route = useRoute()
  const router = useRouter()
  const token = new URLSearchParams(route.hash.slice(1)).get('token')
  onMounted(() => {
    if (route.hash) void router.replace({ hash: '' })
  })
  return token
}
