package dev.pitlane.core

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.nio.file.Files
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/** The session the IDE glue uses, against the real bridge: start, model, restart after a crash. */
class PitlaneSessionTest {
    @Test
    fun `the session keeps the model current and restarts a bridge that died`() {
        val bin = TestEnv.binaryOrSkip()
        TestEnv("jbses").use { t ->
            val src = Files.createDirectories(t.dir.resolve("src/.devcontainer")).parent
            Files.writeString(src.resolve(".devcontainer/devcontainer.json"), """{"image": "pitlane/base:bookworm"}""")
            val statuses = CopyOnWriteArrayList<SessionStatus>()
            val consents = CopyOnWriteArrayList<String>()
            val session = PitlaneSession(
                SessionOptions(
                    binary = { bin },
                    environment = t.env,
                    clientVersion = "test",
                    consent = { consents += "asked"; false to true },
                ),
            )
            session.addStatusListener { statuses += it }
            val name = "jbses-${t.run}"
            session.use {
                TestEnv.engineOrSkip(session.client().get(30, TimeUnit.SECONDS))
                assertInstanceOf(SessionStatus.Ready::class.java, session.status)
                assertEquals(listOf("asked"), consents.toList(), "consent is sent after initialize")
                assertEquals(emptyList<Workspace>(), session.refresh().get(30, TimeUnit.SECONDS))

                session.create(CreateParams(source = src.toString(), name = name)).get(180, TimeUnit.SECONDS)
                assertEquals(WorkspaceState.RUNNING, session.model[name]?.stateValue)

                // The bridge dies: the session says so, and the next call starts a new one.
                val children = ProcessHandle.current().children().filter { it.info().command().orElse("") == bin.toString() }.toList()
                assertEquals(1, children.size, "one bridge process")
                children[0].destroyForcibly()
                children[0].onExit().get(10, TimeUnit.SECONDS)
                val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10)
                while (session.status !is SessionStatus.Failed) {
                    assertTrue(System.nanoTime() < deadline, "the session did not notice the bridge exit: ${session.status}")
                    Thread.sleep(20)
                }
                assertEquals(listOf(name), session.refresh().get(60, TimeUnit.SECONDS).map { it.name })
                assertInstanceOf(SessionStatus.Ready::class.java, session.status)
                assertEquals(2, consents.size, "a new bridge gets the consent again")

                val e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException::class.java) {
                    session.stop("jbses-${t.run}-missing").get(30, TimeUnit.SECONDS)
                }
                assertEquals(ErrorCodes.NOT_FOUND, (e.cause as BridgeException).code)

                // What the IDE's background task does when its indicator is cancelled.
                val slow = Files.createDirectories(t.dir.resolve("slow"))
                Files.writeString(slow.resolve("Dockerfile"), "FROM pitlane/base:bookworm\nRUN echo building ${System.nanoTime()} && sleep 120\n")
                val building = java.util.concurrent.CountDownLatch(1)
                val create = session.create(CreateParams(source = slow.toString(), name = "$name-slow")) { ev ->
                    if (ev is ProgressEvent.Report && ev.output?.contains("building") == true) building.countDown()
                }
                org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CancellationException::class.java) {
                    Tasks.await(create, { building.count == 0L })
                }
                val gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(120)
                while (session.refresh().get(30, TimeUnit.SECONDS).any { it.name == "$name-slow" }) {
                    assertTrue(System.nanoTime() < gone, "the cancelled create was not cleaned up")
                    Thread.sleep(200)
                }

                session.delete(name).get(120, TimeUnit.SECONDS)
                // A change seen while the delete ran (state "deleting") may
                // arrive after its answer; the removal follows it.
                val removed = System.nanoTime() + TimeUnit.SECONDS.toNanos(30)
                while (session.model[name] != null) {
                    assertTrue(System.nanoTime() < removed, "the model still has $name: ${session.model[name]}")
                    Thread.sleep(50)
                }
                assertNull(session.model[name])
            }
            assertEquals(SessionStatus.Stopped, session.status)
            assertTrue(statuses.any { it is SessionStatus.Starting })
        }
    }

    @Test
    fun `a missing binary is reported, not thrown`() {
        val session = PitlaneSession(SessionOptions(binary = { null }, binaryMissing = { "no pitlane here" }))
        val e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException::class.java) { session.refresh().get(5, TimeUnit.SECONDS) }
        assertEquals("no pitlane here", e.cause?.message)
        assertEquals(SessionStatus.Failed("no pitlane here"), session.status)
    }
}
