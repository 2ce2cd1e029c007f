package dev.pitlane.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.attribute.PosixFilePermissions
import java.time.Instant

class PresentationTest {
    @Test
    fun `menus come from the actions the bridge lists, in its order`() {
        val ws = Workspace(name = "api", state = "creating", actions = listOf("logs", "cancel"))
        assertEquals(listOf("Show Log", "Cancel"), WorkspaceMenu.items(ws).map { it.label })
        assertEquals("logs", WorkspaceMenu.defaultAction(ws))
        // The same state with other actions gives another menu: nothing is decided from the state here.
        val odd = ws.copy(actions = listOf("open", "delete", "frobnicate"))
        assertEquals(listOf("open", "delete"), WorkspaceMenu.items(odd).map { it.action })
        assertEquals("open", WorkspaceMenu.defaultAction(odd))
        assertEquals(emptyList<MenuItem>(), WorkspaceMenu.items(ws.copy(actions = null)))
        assertEquals(null, WorkspaceMenu.defaultAction(ws.copy(actions = emptyList())))
        assertEquals("Interrupted", Presentation.stateLabel(WorkspaceState.of("interrupted")))
    }

    @Test
    fun `port rows and their actions`() {
        val web = Port(3000, "web", PortSources.FORWARD_PORTS, "tcp", Forwarded(3001, "http://127.0.0.1:3001/"))
        assertEquals("3000 web → 127.0.0.1:3001", PortText.label(web))
        assertEquals(listOf(PortText.OPEN_IN_BROWSER, PortText.STOP_FORWARDING), PortText.actions(web))
        val dbg = Port(9229, null, PortSources.DETECTED, "tcp")
        assertEquals("9229 (detected)", PortText.label(dbg))
        assertEquals("5432 (configured)", PortText.label(Port(5432, source = PortSources.APP_PORT)))
        assertEquals(listOf(PortText.FORWARD), PortText.actions(dbg))
        assertEquals(8080, PortText.parse(" 8080 "))
        assertNull(PortText.parse("0"))
        assertNull(PortText.parse("70000"))
        assertNotNull(PortText.inputError("web"))
    }

    @Test
    fun `trust dialog text lists every item`() {
        val text = ConsentText.trust(
            TrustRequest(
                "https://example.com/acme/api.git",
                ".devcontainer/devcontainer.json",
                listOf(TrustItem("initializeCommand", "./prep.sh", "devcontainer.json"), TrustItem("privileged", "privileged mode", "ghcr.io/x/dind:2"), TrustItem("newKind", "x")),
            ),
        )
        assertTrue(text.startsWith("The configuration of https://example.com/acme/api.git (.devcontainer/devcontainer.json) asks for access to this machine:\n"), text)
        assertTrue(text.contains("\n• runs on this machine: ./prep.sh  (from devcontainer.json)"), text)
        assertTrue(text.contains("\n• privileged container: privileged mode  (from ghcr.io/x/dind:2)"), text)
        assertTrue(text.contains("\n• newKind: x"), text)
    }

    @Test
    fun `go to workspace search`() {
        val a = Workspace(name = "api", state = "running", source = Source("https://example.com/acme/api.git", "main"), lastUsedAt = "2025-05-01T00:00:00Z")
        val b = Workspace(name = "web", state = "stopped", source = Source("https://example.com/acme/frontend.git"), lastUsedAt = "2025-05-09T00:00:00Z")
        val c = Workspace(name = "api-v2", state = "stopped", source = Source("/home/ada/apiv2", local = true))
        val all = listOf(a, b, c)
        assertEquals(listOf("web", "api", "api-v2"), WorkspaceSearch.filter(all, "").map { it.name })
        assertEquals(listOf("api", "api-v2"), WorkspaceSearch.filter(all, "API").map { it.name })
        assertEquals(listOf("web"), WorkspaceSearch.filter(all, "frontend").map { it.name })
        assertEquals(listOf("web", "api-v2"), WorkspaceSearch.filter(all, "stopped").map { it.name })
        assertEquals(listOf("api"), WorkspaceSearch.filter(all, "api main").map { it.name })
        assertEquals("api  Running  api @ main", WorkspaceSearch.row(a))
    }

    @Test
    fun `source labels`() {
        assertEquals("api @ main", Presentation.sourceLabel(Source("https://example.com/acme/api.git", "main")))
        assertEquals("api", Presentation.sourceLabel(Source("git@example.com:acme/api.git")))
        assertEquals("api", Presentation.sourceLabel(Source("git@example.com:api.git")))
        assertEquals("notes", Presentation.sourceLabel(Source("/home/ada/notes/", local = true)))
        assertEquals("", Presentation.sourceLabel(Source("")))
    }

    @Test
    fun `relative times`() {
        val now = Instant.parse("2025-05-10T12:00:00Z")
        assertEquals("never", Presentation.ago(null, now))
        assertEquals("just now", Presentation.ago(now.minusSeconds(30), now))
        assertEquals("just now", Presentation.ago(now.plusSeconds(30), now))
        assertEquals("1 minute ago", Presentation.ago(now.minusSeconds(61), now))
        assertEquals("5 minutes ago", Presentation.ago(now.minusSeconds(300), now))
        assertEquals("3 hours ago", Presentation.ago(now.minusSeconds(3 * 3600 + 5), now))
        assertEquals("2 days ago", Presentation.ago(now.minusSeconds(2 * 86400), now))
        assertEquals("4 months ago", Presentation.ago(now.minusSeconds(120L * 86400), now))
    }

    @Test
    fun `times from the wire`() {
        val ws = Workspace(createdAt = "2025-05-01T09:30:00.123456789+02:00", lastUsedAt = "0001-01-01T00:00:00Z")
        assertEquals(Instant.parse("2025-05-01T07:30:00.123456789Z"), ws.createdAtInstant)
        assertNull(ws.lastUsedAtInstant)
        assertNull(Workspace(createdAt = "yesterday").createdAtInstant)
    }

    @Test
    fun `summary and details`() {
        val now = Instant.parse("2025-05-10T12:00:00Z")
        val ws = Workspace(name = "api", state = "stopped", source = Source("https://example.com/acme/api.git", "main"), lastUsedAt = "2025-05-10T11:55:00Z")
        assertEquals("api  Stopped  api @ main  last used 5 minutes ago", Presentation.summary(ws, now))
        assertEquals(WorkspaceState.UNKNOWN, ws.copy(state = "paused").stateValue)
        assertTrue(Presentation.details(ws.copy(lastError = "hook failed", ports = listOf(8080))).contains("Ports: 8080\nError: hook failed"))
    }

    @Test
    fun `create form`() {
        assertNull(CreateForm.nameError(""))
        assertNull(CreateForm.nameError("my-app2"))
        assertNotNull(CreateForm.nameError("My_App"))
        assertNotNull(CreateForm.nameError("-app"))
        assertNotNull(CreateForm.nameError("a".repeat(64)))
        assertNotNull(CreateForm.sourceError("  "))
        assertEquals(CreateParams(source = "https://x/y.git", branch = "dev", ide = "gateway"), CreateForm.params(" https://x/y.git ", "dev ", " ", "", "gateway"))
        assertEquals(
            CreateParams(source = "/s", dotfiles = Dotfiles("me/dots", "bin/setup")),
            CreateForm.params("/s", "", "", null, null, " me/dots ", " bin/setup "),
        )
        assertEquals(CreateParams(source = "/s"), CreateForm.params("/s", "", "", null, null, " ", "bin/setup"))
    }

    @Test
    fun `binary lookup`(@TempDir dir: Path) {
        val bin = dir.resolve("bin").also { Files.createDirectories(it) }
        val exe = bin.resolve(PitlaneBinary.fileName)
        Files.writeString(exe, "#!/bin/sh\n")
        val path = listOf(dir.resolve("missing"), bin).joinToString(File.pathSeparator)
        assertNull(PitlaneBinary.findOnPath(path), "a file that is not executable is not a binary")
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"))
        assertEquals(exe, PitlaneBinary.findOnPath(path))
        assertEquals(exe, PitlaneBinary.resolve(null, path))
        assertEquals(exe, PitlaneBinary.resolve(" $exe ", ""))
        assertNull(PitlaneBinary.resolve(dir.resolve("nope").toString(), path), "a configured path is not replaced by PATH")
        assertTrue(PitlaneBinary.notFoundMessage(null).contains("PATH"))
    }

    @Test
    fun `the config status says what is used without a devcontainer json`() {
        val detected = DetectResult(kind = "detected", summary = "Go 1.24 + PostgreSQL", message = "no devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup")
        assertEquals("No devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup.", CreateForm.configStatus(emptyList(), detected))
        assertEquals(
            "No devcontainer.json: Pitlane will use a detected Go 1.24 + PostgreSQL setup. 1 version cannot be installed exactly: see the create log.",
            CreateForm.configStatus(emptyList(), detected.copy(warnings = listOf("Python 3.12 asked by .python-version ..."))),
        )
        assertEquals("No devcontainer.json: a Dockerfile or Pitlane's default image is used.", CreateForm.configStatus(emptyList(), null))
        assertEquals("One configuration found.", CreateForm.configStatus(listOf(".devcontainer/devcontainer.json"), detected))
    }
}
