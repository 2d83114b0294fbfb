// Progressive enhancement of the owners' rating form and the code sheet. Everything works
// without it: the scores are plain radio buttons, the form a plain HTML form.
(function () {
  'use strict';

  // Stars: each score's radios light up to the chosen one.
  document.querySelectorAll('fieldset.score').forEach(function (fs) {
    var labels = Array.prototype.slice.call(fs.querySelectorAll('.choices label'));
    function paint() {
      var chosen = 0;
      labels.forEach(function (l) {
        var input = l.querySelector('input');
        if (input.checked) { chosen = Number(input.value); }
      });
      labels.forEach(function (l) {
        l.classList.toggle('on', Number(l.querySelector('input').value) <= chosen);
      });
    }
    fs.classList.add('stars');
    fs.addEventListener('change', paint);
    paint();
  });

  // How many characters of the comment are left.
  var comment = document.getElementById('comment');
  if (comment) {
    var max = Number(comment.getAttribute('maxlength')) || 500;
    var count = document.createElement('small');
    count.className = 'comment-count';
    count.setAttribute('aria-live', 'polite');
    comment.insertAdjacentElement('afterend', count);
    var update = function () { count.textContent = Array.from(comment.value).length + ' / ' + max; };
    comment.addEventListener('input', update);
    update();
  }

  // One tap submits once (the server counts a repeated form once anyway).
  var form = document.getElementById('rate-form');
  if (form) {
    form.addEventListener('submit', function () {
      var button = document.getElementById('submit');
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
  }

  // The code sheet's print button.
  document.querySelectorAll('[data-print]').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () { window.print(); });
  });
})();
