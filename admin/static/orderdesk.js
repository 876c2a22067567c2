/* What the back office's controls do, in place of inline handlers (which the Content-Security-
   Policy does not run: admin/security_headers.py). Loaded on every page by orderdesk_base.html.

   data-confirm="Question?"        a click goes on only when the question is confirmed
   data-confirm-status-prefix/-suffix   ... with the form's chosen status put in the question
   data-confirm-all-matching       "Apply to all": restates the chosen action and what "all" is
   data-navigate (on a select)     choosing an option opens its value (a URL on this site)
   data-history-back               a link back to the previous page
   data-model-action="name"        Flask-Admin's "With selected" actions (modelActions.execute)
   data-add-inline-field="id"      Flask-Admin's "Add ..." button of inline forms
   href="javascript:..."           Flask-Admin's placeholder links: never followed (the click
                                   still reaches their own handlers, e.g. dropdowns and filters) */
(function () {
  'use strict';

  function closest(event, selector) {
    return event.target instanceof Element ? event.target.closest(selector) : null;
  }

  function confirmQuestion(asking) {
    var text = asking.dataset.confirm;
    var status = asking.form && asking.form.elements.status;
    if (status && asking.dataset.confirmStatusPrefix !== undefined) {
      text += asking.dataset.confirmStatusPrefix + status.options[status.selectedIndex].text +
        (asking.dataset.confirmStatusSuffix || '');
    }
    return text;
  }

  // Capture phase: runs before any other handler, so a refused confirmation stops them all.
  document.addEventListener('click', function (event) {
    var link = closest(event, 'a[href^="javascript:"]');
    if (link) { event.preventDefault(); }

    var asking = closest(event, '[data-confirm]');
    if (asking && !window.confirm(confirmQuestion(asking))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var all = closest(event, '[data-confirm-all-matching]');
    if (all) {
      var choice = all.form.elements.action.options[all.form.elements.action.selectedIndex];
      // An action that opens a page of its own (Bulk Send Message) asks there, with a preview.
      var question = choice.text + ' all ' + all.dataset.matching + ' (status only)?';
      if (choice.dataset.opensPage !== '1' && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
    }
  }, true);

  document.addEventListener('click', function (event) {
    var back = closest(event, '[data-history-back]');
    if (back) {
      event.preventDefault();
      window.history.back();
      return;
    }
    var action = closest(event, '[data-model-action]');
    if (action && window.modelActions) {
      event.preventDefault();
      window.modelActions.execute(action.dataset.modelAction);
      return;
    }
    var inline = closest(event, '[data-add-inline-field]');
    if (inline && window.faForm) {
      event.preventDefault();
      window.faForm.addInlineField(inline, inline.dataset.addInlineField);
    }
  });

  document.addEventListener('change', function (event) {
    var select = closest(event, 'select[data-navigate]');
    if (select && select.value) { window.location = select.value; }
  });
})();
