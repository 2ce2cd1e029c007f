package dev.pitlane.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.atomic.AtomicInteger

class TasksTest {
    @Test
    fun `await returns the value, throws the bridge error, and cancels on request`() {
        assertEquals(3, Tasks.await(CompletableFuture.completedFuture(3), { false }))
        val failed = CompletableFuture<Int>().apply { completeExceptionally(BridgeException(ErrorCodes.BUSY, "busy")) }
        assertEquals(ErrorCodes.BUSY, assertThrows(BridgeException::class.java) { Tasks.await(failed, { false }) }.code)

        val pending = CompletableFuture<Int>()
        val polls = AtomicInteger()
        assertThrows(CancellationException::class.java) { Tasks.await(pending, { polls.incrementAndGet() > 2 }, pollMillis = 5) }
        assertTrue(pending.isCancelled, "the call is cancelled, which sends \$/cancelRequest")
    }

    @Test
    fun `the IDE to open`() {
        val offered = listOf("vscode", "cursor", "jetbrains:CL", "jetbrains:GO", "jetbrains:IU", "zed", "terminal")
        assertEquals("zed", Tasks.pickIde("zed", offered, "GO"))
        assertEquals("jetbrains:GO", Tasks.pickIde(null, offered, "GO"))
        assertEquals("jetbrains:GO", Tasks.pickIde("emacs", offered, "GO"), "a setting the bridge does not offer is passed over")
        assertEquals("jetbrains", Tasks.pickIde("", offered, "XX"))
        assertEquals("jetbrains", Tasks.pickIde(null, offered))
        assertEquals("cursor", Tasks.pickIde("cursor", null))
        assertNull(Tasks.pickIde(null, listOf("vscode"), "IU"))
    }

    @Test
    fun `progress text follows the events`() {
        val p = ProgressText()
        p.apply(ProgressEvent.Begin("Creating api", null, null, true))
        assertEquals("Creating api", p.text)
        p.apply(ProgressEvent.Report("Building image", null, null))
        assertEquals("Creating api: Building image", p.text)
        p.apply(ProgressEvent.Report(null, "Step 1/2 : FROM base", 40))
        assertEquals("Creating api: Building image", p.text)
        assertEquals("Step 1/2 : FROM base", p.detail)
        assertEquals(0.4, p.fraction)
        p.apply(ProgressEvent.End("Created api"))
        assertEquals("Creating api: Created api", p.text)
        assertEquals("", p.detail)
        assertEquals(1.0, p.fraction)
        assertEquals(listOf("Step 1/2 : FROM base"), p.output)
    }

    @Test
    fun `progress says a prebuilt image was found`() {
        val value = com.google.gson.JsonParser.parseString(
            """{"kind":"report","message":"Using prebuilt image 3f9a1c2b7d4e (built 2025-05-01 09:12)","prebuilt":{"key":"3f9a1c2b7d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8","image":"pitlane/cache:3f9a","built":"2025-05-01T09:12:00Z","baked":["onCreateCommand","updateContentCommand"],"pulledFrom":"registry.example.com/team/api"}}""",
        ).asJsonObject
        val ev = ProgressEvent.decode(value) as ProgressEvent.Report
        assertEquals(listOf("onCreateCommand", "updateContentCommand"), ev.prebuilt?.baked)
        val p = ProgressText()
        p.apply(ProgressEvent.Begin("Creating api", null, null, true))
        p.apply(ev)
        assertEquals("Creating api: Using prebuilt image 3f9a1c2b7d4e (built 2025-05-01 09:12)", p.text)
        assertEquals(
            "Prebuilt image found: 3f9a1c2b7d4e (pulled from registry.example.com/team/api; already set up: onCreateCommand, updateContentCommand)",
            p.detail,
        )
        assertEquals(null, (ProgressEvent.decode(com.google.gson.JsonParser.parseString("""{"kind":"report","message":"x"}""").asJsonObject) as ProgressEvent.Report).prebuilt)
    }
}

class OpenPlanTest {
    @Test
    fun `open plans`() {
        val gw = OpenResult("gateway", uri = "jetbrains-gateway://connect#host=api.pitlane", sshHost = "api.pitlane", folder = "/workspaces/api")
        assertEquals(OpenPlan.Browse(gw.uri!!), OpenPlan.of(gw))
        val code = listOf("code", "--folder-uri", "vscode-remote://ssh-remote+api.pitlane/workspaces/api")
        val vs = OpenResult("vscode", uri = code[2], command = code, sshHost = "api.pitlane", folder = "/workspaces/api")
        assertEquals(OpenPlan.Run(code), OpenPlan.of(vs))
        assertEquals(OpenPlan.Browse(code[2]), OpenPlan.of(vs.copy(command = null)))
        assertEquals(OpenPlan.Manual("Connect over SSH to api.pitlane and open /workspaces/api."), OpenPlan.of(vs.copy(uri = null, command = null)))
    }
}
