import { nextTick, ref, watch, type Ref } from 'vue'

/**
 * A <dialog> shown modally while `open()` holds: the browser keeps focus inside it, Escape fires its
 * `cancel` event (the component closes on it), and focus goes back where it was when it closes.
 */
export function useModalDialog(open: () => boolean): Ref<HTMLDialogElement | null> {
  const dialog = ref<HTMLDialogElement | null>(null)
  watch(
    open,
    async (shown) => {
      await nextTick()
      if (shown && !dialog.value?.open) dialog.value?.showModal()
      if (!shown && dialog.value?.open) dialog.value.close()
    },
    { immediate: true },
  )
  return dialog
}
