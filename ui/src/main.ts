import { mount } from 'svelte'
import './styles.css'
import App from './App.svelte'
import { tauriDesk } from './lib/desk'

const target = document.getElementById('app')
if (!target) throw new Error('index.html has no #app element')

export default mount(App, { target, props: { desk: tauriDesk } })
