'use strict';
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target, msg = document.getElementById('msg');
  msg.textContent = '';
  try {
    const s = await ES.api('/session', { method: 'POST',
      body: { username: f.username.value, password: f.password.value } });
    sessionStorage.setItem('csrf', s.csrf);
    location.href = s.user.role === 'operator' ? '/feedback' : '/calls';
  } catch (err) {
    msg.textContent = err.message;
  }
});
