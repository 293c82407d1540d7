// Entry point: placeholder until the screens land.
import './styles.css';
const app = document.getElementById('app');
if (app) app.textContent = 'Reins';
