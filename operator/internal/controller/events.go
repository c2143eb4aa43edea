/*
Copyright 2026.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controller

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
)

// Event types of the events.k8s.io/v1 API.
const (
	eventNormal  = "Normal"
	eventWarning = "Warning"
)

// recordEvent tolerates a nil recorder because the scaffolded tests build
// reconcilers without one; the manager always sets it.
func recordEvent(rec events.EventRecorder, regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
	if rec == nil {
		return
	}
	rec.Eventf(regarding, related, eventtype, reason, action, note, args...)
}
