(function () {
    "use strict";
    var se = window.StackExchange = window.StackExchange || {};
    se.options = se.options || {};
    se.ready = function (fn) { (se._ready = se._ready || []).push(fn); };
    se.using = function (name, fn) { se.ready(function () { fn(name); }); };
    function throttle(fn, ms) {
        var last = 0, timer = null;
        return function () {
            var now = Date.now(), args = arguments, self = this;
            if (now - last >= ms) { last = now; fn.apply(self, args); }
            else if (!timer) { timer = setTimeout(function () { timer = null; last = Date.now(); fn.apply(self, args); }, ms - (now - last)); }
        };
    }
    function relativeTime(el) {
        var iso = el.getAttribute("title"); if (!iso) { return; }
        var then = Date.parse(iso.replace(" ", "T")); if (isNaN(then)) { return; }
        var mins = Math.round((Date.now() - then) / 60000);
        el.textContent = mins < 60 ? mins + " mins ago" : mins < 1440 ? Math.round(mins / 60) + " hours ago" : Math.round(mins / 1440) + " days ago";
    }
    se.ready(function () {
        var els = document.querySelectorAll(".relativetime");
        for (var i = 0; i < els.length; i++) { relativeTime(els[i]); }
        window.addEventListener("scroll", throttle(function () {
            var bar = document.querySelector(".js-top-bar");
            if (bar) { bar.classList.toggle("is-scrolled", window.scrollY > 0); }
        }, 100));
    });
    document.addEventListener("DOMContentLoaded", function () {
        (se._ready || []).forEach(function (fn) { try { fn(); } catch (e) { if (window.console) { console.warn(e); } } });
    });
})();
