(text) => {
  const t = text || '';
  if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(t); }
  else {
    const ta = document.createElement('textarea'); ta.value = t; document.body.appendChild(ta);
    ta.select(); document.execCommand('copy'); ta.remove();
  }
  return [];
}
