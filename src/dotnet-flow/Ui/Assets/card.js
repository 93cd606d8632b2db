// A card's page script (docs/cards.md): draws each Vega-Lite chart with the vendored Vega (its expression
// interpreter, so no code is generated from the spec), and tells the UI around it how tall the card is.
(function () {
  'use strict';
  function showError(box, text) {
    var note = document.createElement('div');
    note.className = 'flow-card-error';
    note.textContent = text;
    box.append(note);
  }
  document.querySelectorAll('.flow-vega').forEach(function (box) {
    var data = box.querySelector('script[type="application/json"]');
    var spec;
    try {
      spec = JSON.parse(data.textContent);
    } catch (e) {
      showError(box, 'This chart\'s Vega-Lite specification is not JSON: ' + e.message);
      return;
    }
    if (typeof window.vegaEmbed !== 'function') {
      showError(box, 'This chart cannot be drawn: the page has no Vega scripts.');
      return;
    }
    var target = document.createElement('div');
    target.className = 'flow-vega-chart';
    box.append(target);
    window.vegaEmbed(target, spec, { ast: true, actions: false, renderer: 'svg' })
      .then(function () { box.setAttribute('data-drawn', 'true'); })
      .catch(function (e) { showError(box, 'This chart could not be drawn: ' + e.message); });
  });
  function report() {
    if (window.parent !== window) {
      window.parent.postMessage({ flowCardHeight: Math.ceil(document.body.getBoundingClientRect().height) }, "*");
    }
  }
  if (typeof ResizeObserver === 'function') new ResizeObserver(report).observe(document.body);
  window.addEventListener('load', report);
  report();
})();
