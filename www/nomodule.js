// Runs only in browsers without ES module support, which also lack the
// WebAssembly features the classifier needs.
(function () {
  var message = document.getElementById('unsupported');
  message.textContent = 'This browser is too old for this page: it cannot run JavaScript modules or the WebAssembly classifier. Use a current version of Chrome, Edge, Firefox or Safari.';
  message.hidden = false;
  message.removeAttribute('hidden');
})();
