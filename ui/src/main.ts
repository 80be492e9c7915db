import { mount } from 'svelte'
import './styles.css'
import App from './App.svelte'
import { tauriDesk } from './lib/desk'
import { setupI18n } from './lib/i18n'

const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')

document.documentElement.lang = setupI18n()

export default mount(App, { target, props: { desk: tauriDesk } })
