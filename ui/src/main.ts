document.getElementById("app")!.textContent = "Strata";
