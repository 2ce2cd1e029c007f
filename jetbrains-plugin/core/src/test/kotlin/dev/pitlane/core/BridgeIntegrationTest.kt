package dev.pitlane.core

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.MethodOrderer
import org.junit.jupiter.api.Order
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.TestMethodOrder
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CancellationException
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/**
 * The client against the real `pitlane bridge` built from this repository
 * (env PITLANE_BIN, default <repo>/bin/pitlane) and the real Docker engine.
 * Each run has its own PITLANE_INSTANCE and its own data, config and home
 * folders, and deletes the workspaces it made.
 *
 * Skipped when the binary is missing or no Docker engine answers, unless
 * PITLANE_REQUIRE_DOCKER=1, which turns both into failures.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation::class)
class BridgeIntegrationTest {
    private lateinit var t: TestEnv
    private val run get() = t.run
    private val nameA get() = "jb-$run-a"
    private val nameSlow get() = "jb-$run-slow"
    private val tmp get() = t.dir
    private val env get() = t.env
    private lateinit var source: Path
    private lateinit var slowSource: Path
    private lateinit var bridge: BridgeProcess
    private var ides: List<String> = emptyList()
    private val stderr = CopyOnWriteArrayList<String>()
    private val changes = LinkedBlockingQueue<DidChangeParams>()
    private val incoming = CopyOnWriteArrayList<String>()
    private val model = WorkspaceListModel()
    private val client get() = bridge.client

    @BeforeAll
    fun startBridge() {
        val bin = TestEnv.binaryOrSkip()
        t = TestEnv("jbtest")
        source = copyExample()
        slowSource = Files.createDirectories(tmp.resolve("slow-src"))
        // A build that runs long enough to be cancelled while it runs.
        Files.writeString(slowSource.resolve("Dockerfile"), "FROM pitlane/base:bookworm\nRUN echo building ${System.nanoTime()} && sleep 120\n")

        bridge = BridgeProcess.start(bin, env, { stderr += it }) { outgoing, msg ->
            if (!outgoing) incoming += msg.toString()
        }
        // The model first: a test woken by the queue then sees the model already updated.
        client.addChangeListener { model.apply(it); changes += it }
        val info = client.initialize("test").get(30, TimeUnit.SECONDS)
        assertEquals(Protocol.VERSION, info.protocolVersion)
        ides = info.ides.orEmpty()
        // The first list tells whether a Docker engine answers.
        TestEnv.engineOrSkip(client)
    }

    /** A copy of examples/image: its hooks write into the folder, which must not be the repository's. */
    private fun copyExample(): Path {
        val from = Repo.root.resolve("examples/image")
        val to = tmp.resolve("image-src")
        assertTrue(Files.isDirectory(from.resolve(".devcontainer")), "missing example $from")
        Files.walk(from).use { paths ->
            paths.forEach { p -> Files.copy(p, to.resolve(from.relativize(p).toString())) }
        }
        return to
    }

    @AfterAll
    fun cleanUp() {
        if (!::t.isInitialized) return
        t.use {
            if (::bridge.isInitialized) {
                for (name in listOf(nameA, nameSlow)) runCatching { client.delete(name).get(60, TimeUnit.SECONDS) }
                bridge.stop()
            }
        }
    }

    /** Waits for a change notification about [name] matching [ok]. */
    private fun awaitChange(name: String, seconds: Long = 60, ok: (DidChangeParams) -> Boolean): DidChangeParams {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        val seen = ArrayList<DidChangeParams>()
        while (true) {
            val left = deadline - System.nanoTime()
            val c = changes.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                ?: fail("no workspace/didChange for $name within ${seconds}s; saw $seen; bridge log:\n" + stderr.takeLast(30).joinToString("\n"))
            seen += c
            if (c.name == name && ok(c)) return c
        }
    }

    @Test
    @Order(1)
    fun `initialize and list`() {
        assertEquals(emptyList<Workspace>(), client.list().get(30, TimeUnit.SECONDS), "a new instance has no workspaces")
        assertTrue(client.setConsent(enabled = false, ideTelemetryEnabled = true).get(30, TimeUnit.SECONDS).not())
        assertEquals(listOf(".devcontainer/devcontainer.json"), client.configs(source.toString()).get(30, TimeUnit.SECONDS))
    }

    @Test
    @Order(2)
    fun `create from a local example reports progress and notifies`() {
        val events = CopyOnWriteArrayList<ProgressEvent>()
        val result = client.create(CreateParams(source = source.toString(), name = nameA)) { events += it }.get(180, TimeUnit.SECONDS)
        val ws = result.workspace
        assertEquals(nameA, ws.name)
        assertEquals(WorkspaceState.RUNNING, ws.stateValue)
        assertEquals("$nameA.pitlane", ws.sshHost)
        assertTrue(ws.source.local, "a local folder is a local source")
        assertNotNull(ws.createdAtInstant)
        assertTrue(Files.exists(source.resolve(".pitlane-created")), "the postCreateCommand ran in the mounted folder")

        assertInstanceOf(ProgressEvent.Begin::class.java, events.first(), "progress: $events")
        assertInstanceOf(ProgressEvent.End::class.java, events.last(), "progress: $events")
        assertEquals(1, events.count { it is ProgressEvent.Begin })
        assertEquals(1, events.count { it is ProgressEvent.End })
        assertTrue(events.any { it is ProgressEvent.Report && !it.message.isNullOrEmpty() }, "progress reports the steps: $events")

        awaitChange(nameA) { it.workspace?.stateValue == WorkspaceState.RUNNING }
        assertEquals(WorkspaceState.RUNNING, model[nameA]?.stateValue, "the model follows the notifications")
        assertEquals(listOf(nameA), client.list().get(30, TimeUnit.SECONDS).map { it.name })

        val logs = client.logs(nameA).get(30, TimeUnit.SECONDS)
        assertTrue(logs.lines.orEmpty().isNotEmpty(), "the create wrote a log")
        val open = client.open(nameA).get(30, TimeUnit.SECONDS)
        assertEquals("$nameA.pitlane", open.sshHost)
        assertEquals(ws.folder, open.folder)
        // What the plugin asks for in GoLand: Gateway over the workspace's SSH host.
        val ide = Tasks.pickIde(null, ides, "GO")
        assertEquals("jetbrains:GO", ide, "the bridge offers $ides")
        val plan = OpenPlan.of(client.open(nameA, ide).get(30, TimeUnit.SECONDS))
        val uri = (plan as? OpenPlan.Browse)?.uri ?: fail("expected a Gateway link, got $plan")
        assertTrue(uri.startsWith("jetbrains-gateway://connect#") && uri.contains("host=$nameA.pitlane"), uri)
    }

    @Test
    @Order(3)
    fun `stop and start`() {
        changes.clear()
        val stopped = client.stop(nameA).get(60, TimeUnit.SECONDS)
        assertEquals(WorkspaceState.STOPPED, stopped.stateValue)
        awaitChange(nameA) { it.workspace?.stateValue == WorkspaceState.STOPPED }

        val events = CopyOnWriteArrayList<ProgressEvent>()
        val started = client.start(nameA) { events += it }.get(120, TimeUnit.SECONDS)
        assertEquals(WorkspaceState.RUNNING, started.stateValue)
        assertInstanceOf(ProgressEvent.End::class.java, events.lastOrNull(), "start reports progress: $events")
        awaitChange(nameA) { it.workspace?.stateValue == WorkspaceState.RUNNING }
        assertEquals(WorkspaceState.RUNNING, model[nameA]?.stateValue)
    }

    @Test
    @Order(4)
    fun `a stop typed in a terminal arrives as a notification`() {
        changes.clear()
        val cli = ProcessBuilder(Repo.binary.toString(), "stop", nameA)
        cli.environment().putAll(env)
        cli.redirectErrorStream(true)
        val p = cli.start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "pitlane stop did not end")
        assertEquals(0, p.exitValue(), "pitlane stop $nameA failed: $out")

        val c = awaitChange(nameA) { it.workspace?.stateValue == WorkspaceState.STOPPED }
        assertFalse(c.removed)
        assertEquals(WorkspaceState.STOPPED, model[nameA]?.stateValue)
    }

    @Test
    @Order(5)
    fun `cancelling a create stops it and removes what it made`() {
        val building = java.util.concurrent.CompletableFuture<Unit>()
        val events = CopyOnWriteArrayList<ProgressEvent>()
        val f = client.create(CreateParams(source = slowSource.toString(), name = nameSlow)) { ev ->
            events += ev
            if (ev is ProgressEvent.Report && ev.output?.contains("building") == true) building.complete(Unit)
        }
        try {
            building.get(120, TimeUnit.SECONDS)
        } catch (e: Exception) {
            fail<Unit>("the slow build did not start: $events; ${if (f.isDone) "create ended: " + runCatching { f.get() } else ""}")
        }
        if (!f.cancel(true)) {
            // Only the bridge's own "request cancelled" answer may win the race.
            assertTrue(answeredCancelled(f), "the create ended before it could be cancelled: ${runCatching { f.get() }}; progress: $events")
        } else {
            assertThrows(CancellationException::class.java) { f.get() }
        }

        // The server answers the cancelled request with -32800 once it has cleaned up.
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
        while (incoming.none { it.contains("-32800") }) {
            assertTrue(System.nanoTime() < deadline, "no -32800 answer to the cancelled create")
            Thread.sleep(100)
        }
        assertFalse(client.list().get(30, TimeUnit.SECONDS).any { it.name == nameSlow }, "the cancelled workspace is gone")
        val left = docker("ps", "-aq", "--filter", "name=pitlane-$nameSlow")
        assertEquals("", left.trim(), "the cancelled create left a container behind")
    }

    /**
     * Runs the docker CLI and returns its standard output, failing the test
     * unless docker exits with status 0: an empty answer must mean "none",
     * never "docker failed".
     */
    private fun docker(vararg args: String): String {
        val p = ProcessBuilder(listOf("docker") + args).start()
        val err = java.util.concurrent.CompletableFuture.supplyAsync { p.errorStream.bufferedReader().readText() }
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "docker ${args.joinToString(" ")} did not end")
        assertEquals(0, p.exitValue(), "docker ${args.joinToString(" ")} failed: ${err.get(10, TimeUnit.SECONDS).trim()}")
        return out
    }

    @Test
    @Order(6)
    fun `errors carry codes`() {
        val e = assertThrows(ExecutionException::class.java) { client.stop("jb-$run-missing").get(30, TimeUnit.SECONDS) }
        val be = assertInstanceOf(BridgeException::class.java, e.cause)
        assertEquals(ErrorCodes.NOT_FOUND, be.code)
        assertEquals("jb-$run-missing", be.workspace)
        val taken = assertThrows(ExecutionException::class.java) {
            client.create(CreateParams(source = source.toString(), name = nameA)).get(60, TimeUnit.SECONDS)
        }
        assertEquals(ErrorCodes.NAME_TAKEN, (taken.cause as BridgeException).code)
    }

    @Test
    @Order(7)
    fun `delete removes the workspace and notifies`() {
        changes.clear()
        client.delete(nameA).get(120, TimeUnit.SECONDS)
        awaitChange(nameA) { it.removed }
        assertEquals(null, model[nameA])
        assertEquals(emptyList<Workspace>(), client.list().get(30, TimeUnit.SECONDS))
    }

    @Test
    @Order(8)
    fun `shutdown ends the bridge with status 0`() {
        client.shutdown().get(30, TimeUnit.SECONDS)
        assertTrue(bridge.process.waitFor(30, TimeUnit.SECONDS), "the bridge did not exit after shutdown and exit")
        assertEquals(0, bridge.process.exitValue())
        client.closed.get(10, TimeUnit.SECONDS)
    }
}
