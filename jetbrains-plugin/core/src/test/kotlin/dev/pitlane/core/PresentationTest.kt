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
    fun `summary and actions follow the state`() {
        val now = Instant.parse("2025-05-10T12:00:00Z")
        val ws = Workspace(name = "api", state = "stopped", source = Source("https://example.com/acme/api.git", "main"), lastUsedAt = "2025-05-10T11:55:00Z")
        assertEquals("api  Stopped  api @ main  last used 5 minutes ago", Presentation.summary(ws, now))
        assertTrue(Presentation.canStart(ws))
        assertFalse(Presentation.canStop(ws))
        val running = ws.copy(state = "running")
        assertTrue(Presentation.canStop(running))
        assertFalse(Presentation.canStart(running))
        assertFalse(Presentation.canRebuild(ws.copy(state = "creating")))
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
