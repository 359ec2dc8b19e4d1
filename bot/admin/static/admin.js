// The staff console's only script: move focus to an error message so a screen reader reads it.
// Everything works without it.
document.addEventListener("DOMContentLoaded", () => {
  const error = document.querySelector("[role=alert]");
  const field = document.getElementById("password");
  if (error && field) field.focus();
  // A refused form: its list of bad fields, whose links lead to each field.
  const problems = document.getElementById("edit-problems");
  if (problems) problems.focus();
});
