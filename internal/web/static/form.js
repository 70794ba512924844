// Progressive enhancement of the hosted forms. Every form works without this file; it only
// narrows the document type list to the chosen country, adds beneficial-owner rows, moves focus
// to the error summary and stops double submissions.
(function () {
  'use strict';

  var summary = document.getElementById('summary');
  if (summary) summary.focus();

  // Identification types: the server sends every country's types in optgroups; show only the
  // selected country's, flat, and preselect when there is a single one.
  Array.prototype.forEach.call(document.querySelectorAll('select[data-country-from]'), function (typeSel) {
    var countrySel = document.getElementById(typeSel.getAttribute('data-country-from'));
    if (!countrySel) return;
    var choose = typeSel.options.length ? typeSel.options[0].textContent : '';
    var chooseCountry = typeSel.getAttribute('data-choose-country') || choose;
    var groups = Array.prototype.map.call(typeSel.querySelectorAll('optgroup'), function (g) {
      return {
        country: g.getAttribute('data-country'),
        label: g.label,
        options: Array.prototype.map.call(g.querySelectorAll('option'), function (o) {
          return { value: o.value, text: o.textContent };
        })
      };
    });
    function rebuild() {
      var current = typeSel.value;
      var country = countrySel.value;
      typeSel.textContent = '';
      typeSel.appendChild(new Option(country ? choose : chooseCountry, ''));
      groups.forEach(function (g) {
        if (country && g.country !== country) return;
        var parent = typeSel;
        if (!country) {
          parent = document.createElement('optgroup');
          parent.label = g.label;
          typeSel.appendChild(parent);
        }
        g.options.forEach(function (o) {
          var opt = new Option(o.text, o.value);
          opt.selected = o.value === current;
          parent.appendChild(opt);
        });
      });
      if (country && typeSel.options.length === 2) typeSel.selectedIndex = 1;
    }
    countrySel.addEventListener('change', rebuild);
    rebuild();
  });

  // Beneficial owners: the server renders three rows; this adds more.
  var list = document.querySelector('[data-owners]');
  var add = document.querySelector('[data-add-owner]');
  if (list && add) {
    add.hidden = false;
    add.addEventListener('click', function () {
      var rows = list.querySelectorAll('[data-owner]');
      if (rows.length >= 20) return;
      var n = rows.length + 1;
      var row = rows[rows.length - 1].cloneNode(true);
      row.querySelector('legend').textContent = (list.getAttribute('data-legend') || '%d').replace('%d', n);
      Array.prototype.forEach.call(row.querySelectorAll('input'), function (input) {
        input.value = '';
        input.removeAttribute('required');
        input.removeAttribute('aria-invalid');
        input.removeAttribute('aria-describedby');
        input.id = input.id.replace(/_\d+$/, '_' + n);
      });
      Array.prototype.forEach.call(row.querySelectorAll('label'), function (label) {
        label.htmlFor = label.htmlFor.replace(/_\d+$/, '_' + n);
      });
      list.appendChild(row);
      row.querySelector('input').focus();
    });
  }

  // One submission per click: uploads take a while on phones.
  Array.prototype.forEach.call(document.querySelectorAll('form[data-once]'), function (form) {
    form.addEventListener('submit', function () {
      var button = form.querySelector('button[type=submit]');
      if (button) {
        setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
})();
