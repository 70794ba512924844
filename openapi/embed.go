// Package openapi embeds the OpenAPI document of the partner API, served at /api/openapi.yaml
// and used by the API tests to check every response they see.
package openapi

import _ "embed"

// Document is openapi.yaml.
//
//go:embed openapi.yaml
var Document []byte
