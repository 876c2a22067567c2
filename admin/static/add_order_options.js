/* Add New Order and Amend order: a product row shows and enables only the configurable options (and addons) of the product
   chosen in it (admin/templates/admin/add_order_options.html); a disabled control is not posted,
   so the cart never carries another product's options. The live total follows on the same change. */
(function () {
  'use strict';
  function followProduct(select) {
    var row = select.closest('.product-row');
    row.querySelectorAll('.config-option').forEach(function (box) {
      var offered = box.dataset.products.split(',').indexOf(select.value) !== -1;
      box.hidden = !offered;
      box.querySelectorAll('input, select').forEach(function (control) { control.disabled = !offered; });
    });
    // The row offers the addons of its product; others are hidden and unticked.
    row.querySelectorAll('.addon-choice').forEach(function (label) {
      var offered = label.dataset.products.split(',').indexOf(select.value) !== -1;
      label.hidden = !offered;
      if (!offered) { label.querySelector('input').checked = false; }
    });
  }
  document.addEventListener('change', function (event) {
    if (event.target.name && /^products-\d+-product_id$/.test(event.target.name)) { followProduct(event.target); }
  }, true);
})();
