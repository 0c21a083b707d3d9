import { createRouter, createWebHistory } from 'vue-router'
import { useSessionStore } from '../stores/session'

const ChatView = () => import('../views/ChatView.vue')

export const router = createRouter({
  history: createWebHistory('/app/'),
  routes: [
    // the default room at /, any other at /rooms/<name>: a reload or a shared link opens the same room
    { path: '/', name: 'chat', component: ChatView, meta: { requiresLogin: true } },
    { path: '/rooms/:room', name: 'room', component: ChatView, meta: { requiresLogin: true } },
    { path: '/login', name: 'login', component: () => import('../views/LoginView.vue') },
    { path: '/register', name: 'register', component: () => import('../views/RegisterView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
})

// The server decides who is logged in (GET /me), not anything kept in the page.
router.beforeEach(async (to) => {
  const session = useSessionStore()
  const user = await session.check()
  if (to.meta.requiresLogin && !user) return { name: 'login' }
  if (!to.meta.requiresLogin && user) return { name: 'chat' }
})
