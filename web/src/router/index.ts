import { createRouter, createWebHistory } from 'vue-router'
import { useSessionStore } from '../stores/session'

const ChatView = () => import('../views/ChatView.vue')

declare module 'vue-router' {
  interface RouteMeta {
    /** only for a logged-in user */
    requiresLogin?: boolean
    /** only for an admin (the server checks every request anyway) */
    requiresAdmin?: boolean
    /** opened from a mailed link: the same page whether logged in or not */
    fromMail?: boolean
  }
}

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    // the default room at /, any other at /rooms/<name>: a reload or a shared link opens the same room
    { path: '/', name: 'chat', component: ChatView, meta: { requiresLogin: true } },
    { path: '/rooms/:room', name: 'room', component: ChatView, meta: { requiresLogin: true } },
    { path: '/login', name: 'login', component: () => import('../views/LoginView.vue') },
    { path: '/register', name: 'register', component: () => import('../views/RegisterView.vue') },
    {
      path: '/forgot-password',
      name: 'forgot-password',
      component: () => import('../views/ForgotPasswordView.vue'),
    },
    {
      path: '/reset-password',
      name: 'reset-password',
      component: () => import('../views/ResetPasswordView.vue'),
      meta: { fromMail: true },
    },
    {
      path: '/verify-email',
      name: 'verify-email',
      component: () => import('../views/VerifyEmailView.vue'),
      meta: { fromMail: true },
    },
    {
      path: '/confirm-email',
      name: 'confirm-email',
      component: () => import('../views/ConfirmEmailView.vue'),
      meta: { fromMail: true },
    },
    {
      path: '/settings',
      name: 'settings',
      component: () => import('../views/SettingsView.vue'),
      meta: { requiresLogin: true },
    },
    {
      path: '/admin',
      name: 'admin',
      component: () => import('../views/AdminView.vue'),
      meta: { requiresLogin: true, requiresAdmin: true },
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

// The server decides who is logged in (GET /me), not anything kept in the page.
router.beforeEach(async (to) => {
  const session = useSessionStore()
  const user = await session.check()
  if (to.meta.fromMail) return
  if (to.meta.requiresLogin && !user) return { name: 'login' }
  if (to.meta.requiresAdmin && !user?.admin) return { name: 'chat' }
  if (!to.meta.requiresLogin && user) return { name: 'chat' }
})
