// Citation links: open the card's abstract and scroll to it. Capture phase, so Gradio's own link
// handling (new tab for links in chat messages) never sees the click.
(() => {
  if (window.__pcCites) return;
  window.__pcCites = true;
  function show(n) {
    const card = document.getElementById('pc-src-' + n);
    if (!card) return;
    const d = card.querySelector('details');
    if (d) d.open = true;
    card.scrollIntoView({behavior: 'smooth', block: 'nearest'});
    card.classList.remove('pc-flash'); void card.offsetWidth; card.classList.add('pc-flash');
  }
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.pc-cite') : null;
    if (!a) return;
    e.preventDefault(); e.stopPropagation();
    show(a.dataset.cite || (a.getAttribute('href') || '').replace('#pc-src-', ''));
  }, true);
})();
