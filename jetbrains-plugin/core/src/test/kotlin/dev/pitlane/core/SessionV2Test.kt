package dev.pitlane.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * Protocol version 2 and the consent questions through the session the IDE
 * uses, against the real bridge and Docker engine: trust before a
 * configuration's host command runs, ports and their forwards in the model,
 * a log followed live, and a delete that would lose work.
 */
class SessionV2Test {
    private fun session(bin: Path, t: TestEnv) = PitlaneSession(SessionOptions(binary = { bin }, environment = t.env, clientVersion = "test"))

    private fun <T> yes(log: MutableList<T>) = { item: T -> log += item; CompletableFuture.completedFuture(true) }

    private fun until(what: String, seconds: Long = 60, cond: () -> Boolean) {
        val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds)
        while (!cond()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting: $what")
            Thread.sleep(100)
        }
    }

    @Test
    fun `trust, ports, live log and actions through the session`() {
        val bin = TestEnv.binaryOrSkip()
        TestEnv("jbv2").use { t ->
            val marker = t.dir.resolve("initialize-ran")
            val src = Files.createDirectories(t.dir.resolve("src/.devcontainer")).parent
            Files.writeString(
                src.resolve(".devcontainer/devcontainer.json"),
                """{"image": "pitlane/base:bookworm", "initializeCommand": "touch $marker", "postCreateCommand": "echo created"}""",
            )
            val name = "jbv2-${t.run}"
            session(bin, t).use { s ->
                TestEnv.engineOrSkip(s.client().get(30, TimeUnit.SECONDS))
                val params = CreateParams(source = src.toString(), name = name)

                // No: nothing runs on the host and no workspace is made.
                val asked = CopyOnWriteArrayList<TrustRequest>()
                val declined = s.createWithTrust(params, { r, _ -> asked += r; CompletableFuture.completedFuture(false) })
                assertThrows(DeclinedException::class.java) { declined.get(120, TimeUnit.SECONDS) }
                assertFalse(Files.exists(marker), "initializeCommand ran without trust")
                assertEquals(listOf("initializeCommand"), asked.single().items.orEmpty().map { it.kind })
                assertTrue(asked.single().items!!.single().detail.contains("touch"), asked.toString())
                assertTrue(s.refresh().get(30, TimeUnit.SECONDS).none { it.name == name })

                // Yes: the same create again with trust.
                val created = s.createWithTrust(params, { r, m -> asked += r; assertTrue(m.isNotEmpty()); CompletableFuture.completedFuture(true) }).get(180, TimeUnit.SECONDS)
                assertTrue(Files.exists(marker), "initializeCommand did not run after trust")
                assertEquals(2, asked.size)
                // The menu comes from the bridge's actions.
                assertEquals(listOf("open", "stop", "rebuild", "delete", "logs", "ports"), created.workspace.actions)
                assertEquals(listOf("Open", "Stop", "Rebuild", "Delete…", "Show Log", "Forward Port…"), WorkspaceMenu.items(s.model[name]!!).map { it.label })

                // Ports: the list goes to the model, a forward shows up there, and its end too.
                assertEquals(s.ports(name).get(30, TimeUnit.SECONDS), s.model.ports(name))
                val fwd = s.forwardPort(name, 8080).get(30, TimeUnit.SECONDS)
                val local = (fwd.forwarded ?: error("no forward in $fwd")).localPort
                assertTrue(local > 0)
                assertEquals("http://127.0.0.1:$local/", fwd.forwarded!!.url)
                until("the forward in the model") { s.model.ports(name).any { it.port == 8080 && it.forwarded?.localPort == local } }
                java.net.Socket("127.0.0.1", local).close() // the bridge listens there
                s.stopForwarding(name, 8080).get(30, TimeUnit.SECONDS)
                until("the forward gone from the model") { s.model.ports(name).none { it.forwarded != null } }

                // A live log: a rebuild's output reaches the listener while the follow lasts.
                val lines = CopyOnWriteArrayList<String>()
                val follow = s.followLogs(name, 5) { lines += it }.get(30, TimeUnit.SECONDS)
                assertTrue(follow.followId.isNotEmpty())
                val before = follow.result.lines.orEmpty()
                // Trust is remembered for this source and configuration: no question this time.
                s.rebuildWithTrust(name, { _, _ -> error("asked for trust again") }).get(300, TimeUnit.SECONDS)
                until("rebuild output in the followed log") { lines.any { it.contains("created") } }
                follow.stop().get(30, TimeUnit.SECONDS)
                assertTrue(before.size <= 5)

                s.delete(name).get(120, TimeUnit.SECONDS)
            }
        }
    }

    @Test
    fun `a delete that would lose work asks, and deletes only on yes`() {
        val bin = TestEnv.binaryOrSkip()
        TestEnv("jbdel").use { t ->
            val repo = Files.createDirectories(t.dir.resolve("repo/.devcontainer")).parent
            Files.writeString(repo.resolve(".devcontainer/devcontainer.json"), """{"image": "pitlane/base:bookworm"}""")
            git(repo, "init", "-q", "-b", "main")
            git(repo, "add", ".")
            git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "config")
            val name = "jbdel-${t.run}"
            session(bin, t).use { s ->
                TestEnv.engineOrSkip(s.client().get(30, TimeUnit.SECONDS))
                val ws = s.create(CreateParams(source = "file://$repo", name = name)).get(180, TimeUnit.SECONDS).workspace
                val clone = Path.of(ws.localFolder ?: error("no clone folder in $ws"))
                Files.writeString(clone.resolve("notes.txt"), "only here\n")

                val asked = CopyOnWriteArrayList<UnsavedWork>()
                val no = s.deleteAsking(name) { w, _ -> asked += w; CompletableFuture.completedFuture(false) }
                assertThrows(DeclinedException::class.java) { no.get(60, TimeUnit.SECONDS) }
                assertTrue(Files.exists(clone.resolve("notes.txt")), "the work was deleted after no")
                assertTrue(s.refresh().get(30, TimeUnit.SECONDS).any { it.name == name })
                val work = asked.single()
                assertTrue(work.changes.orEmpty().any { it.contains("notes.txt") }, work.toString())
                assertTrue(ConsentText.unsaved(name, work).contains("notes.txt"))

                s.deleteAsking(name, yes(asked).let { f -> UnsavedWorkPrompt { w, _ -> f(w) } }).get(120, TimeUnit.SECONDS)
                assertEquals(2, asked.size)
                until("the workspace gone") { s.refresh().get(30, TimeUnit.SECONDS).none { it.name == name } }
            }
        }
    }

    @Test
    fun `the cancel action stops a create this session runs, also one without a name`() {
        val bin = TestEnv.binaryOrSkip()
        TestEnv("jbcan").use { t ->
            val name = "jbcan-${t.run}"
            // Unnamed, the workspace takes the folder's name. The bridge lists a workspace once its
            // container exists, so the create is slow in a hook rather than in the image build.
            val slow = Files.createDirectories(t.dir.resolve("$name/.devcontainer")).parent
            Files.writeString(slow.resolve(".devcontainer/devcontainer.json"), """{"image": "pitlane/base:bookworm", "postCreateCommand": "sleep 120"}""")
            session(bin, t).use { s ->
                TestEnv.engineOrSkip(s.client().get(30, TimeUnit.SECONDS))
                assertFalse(s.cancel(name), "nothing runs yet")
                val create = s.create(CreateParams(source = slow.toString()))
                var ws: Workspace? = null
                until("the creating workspace offers cancel", 120) {
                    ws = s.refresh().get(30, TimeUnit.SECONDS).firstOrNull { it.name == name }
                    ws?.allows(Actions.CANCEL) == true
                }
                // The menu offers what the bridge lists: no delete while creating.
                assertEquals(listOf("logs", "cancel"), ws!!.actions)
                assertEquals(listOf("Show Log", "Cancel"), WorkspaceMenu.items(ws!!).map { it.label })
                assertTrue(s.cancel(name))
                assertThrows(java.util.concurrent.CancellationException::class.java) { create.get(60, TimeUnit.SECONDS) }
                until("the cancelled create cleaned up", 120) { s.refresh().get(30, TimeUnit.SECONDS).none { it.name == name } }
            }
        }
    }

    private fun git(dir: Path, vararg args: String) {
        val p = ProcessBuilder(listOf("git") + args).directory(dir.toFile()).redirectErrorStream(true).start()
        val out = p.inputStream.bufferedReader().readText()
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "git ${args.joinToString(" ")}: $out")
    }
}
