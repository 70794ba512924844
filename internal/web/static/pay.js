// Progressive enhancement of the payment pages. Every page works without this file (a meta
// refresh stands in for the poll); it adds copy buttons, follows the payment's status and
// stops double submissions of the checkout's two buttons.
(function () {
  'use strict';

  // A polite live region announces "Copied" to screen readers.
  var live = document.createElement('p');
  live.className = 'offscreen';
  live.setAttribute('aria-live', 'polite');
  document.body.appendChild(live);

  function fallbackCopy(text) {
    var ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.className = 'offscreen';
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    return ok;
  }

  Array.prototype.forEach.call(document.querySelectorAll('button[data-copy]'), function (btn) {
    var label = btn.textContent;
    var timer;
    btn.hidden = false;
    btn.addEventListener('click', function () {
      var text = btn.getAttribute('data-copy');
      function done() {
        var msg = btn.getAttribute('data-copied') || label;
        btn.textContent = msg;
        btn.classList.add('copied');
        live.textContent = msg;
        clearTimeout(timer);
        timer = setTimeout(function () {
          btn.textContent = label;
          btn.classList.remove('copied');
          live.textContent = '';
        }, 2000);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, function () { if (fallbackCopy(text)) done(); });
      } else if (fallbackCopy(text)) {
        done();
      }
    });
  });

  // The status poll: reload once the payment moves on, so the server draws the new state.
  var poll = document.querySelector('[data-poll]');
  if (poll && window.fetch) {
    var url = poll.getAttribute('data-poll');
    var shown = poll.getAttribute('data-status');
    var started = Date.now();
    var schedule = function () {
      // Every 2 s for two minutes, then every 15 s: bank transfers take hours.
      setTimeout(tick, Date.now() - started < 120000 ? 2000 : 15000);
    };
    var tick = function () {
      if (document.hidden) { schedule(); return; }
      fetch(url, { cache: 'no-store', credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s && s.status && s.status !== shown) {
            window.location.reload();
            return;
          }
          schedule();
        }, schedule);
    };
    schedule();
  }

  // One submission per click, whichever button was pressed.
  Array.prototype.forEach.call(document.querySelectorAll('form[data-once]'), function (form) {
    form.addEventListener('submit', function () {
      setTimeout(function () {
        Array.prototype.forEach.call(form.querySelectorAll('button[type=submit]'), function (b) { b.disabled = true; });
      }, 0);
    });
  });
})();
