// The day page's « Scanner » button: where the browser has BarcodeDetector and a camera, read the basket's
// QR code and send it through the same « Trouver » form (typing the number always works without this).
(function () {
  "use strict";
  var form = document.querySelector("form[data-scan]");
  if (!form || !("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return;
  }
  var button = form.querySelector("[data-scan-start]");
  var video = form.querySelector("[data-scan-video]");
  var status = form.querySelector("[data-scan-status]");
  var input = form.querySelector("input[name=code]");
  var stream = null;
  var detector = null;

  function say(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
    }
    stream = null;
    video.hidden = true;
    button.textContent = button.dataset.label;
  }

  function tick() {
    if (!stream) {
      return;
    }
    detector.detect(video).then(function (codes) {
      if (codes.length && codes[0].rawValue) {
        input.value = codes[0].rawValue;
        stop();
        say(form.dataset.found || "");
        form.submit();
        return;
      }
      window.setTimeout(tick, 250);
    }).catch(function () {
      window.setTimeout(tick, 500);
    });
  }

  function start() {
    try {
      detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    } catch (error) {
      say(button.dataset.unavailable);
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        video.hidden = false;
        button.textContent = button.dataset.stop;
        say(button.dataset.aim);
        return video.play();
      })
      .then(tick)
      .catch(function () {
        stop();
        say(button.dataset.refused);
      });
  }

  button.dataset.label = button.textContent;
  button.hidden = false;
  button.addEventListener("click", function () {
    if (stream) {
      stop();
      say("");
    } else {
      start();
    }
  });
})();
