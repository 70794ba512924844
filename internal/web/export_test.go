package web

// LocalNumber exposes localNumber to the external tests.
var LocalNumber = localNumber
