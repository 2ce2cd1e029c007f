package dev.pitlane.core

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CancellationException
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/** The client's behaviour on the wire, against a scripted server on a loopback socket. */
class BridgeClientTest {
    private val lb = Loopback()
    private val wire get() = lb.wire
    private val client get() = lb.client

    @AfterEach
    fun tearDown() = lb.close()

    private fun json(s: String): JsonObject = JsonParser.parseString(s).asJsonObject

    private fun respond(req: JsonObject, result: String) =
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"result":$result}""")

    @Test
    fun `initialize sends the protocol version and the client name`() {
        val f = client.initialize("1.2.3")
        val req = wire.read()!!
        assertEquals("initialize", req["method"].asString)
        assertEquals(json("""{"protocolVersion":2,"clientInfo":{"name":"jetbrains","version":"1.2.3"}}"""), req["params"])
        respond(req, """{"protocolVersion":1,"serverInfo":{"name":"pitlane","version":"0.1.0"},"ides":["vscode","gateway"]}""")
        val info = f.get(5, TimeUnit.SECONDS)
        assertEquals(1, info.protocolVersion)
        assertEquals("pitlane", info.serverInfo.name)
        assertEquals(listOf("vscode", "gateway"), info.ides)
    }

    @Test
    fun `optional params are left out`() {
        client.create(CreateForm.params("/src/app", " ", "", null, null))
        val req = wire.read()!!
        assertEquals(json("""{"source":"/src/app"}"""), req["params"])
        client.list()
        val list = wire.read()!!
        assertEquals("workspace/list", list["method"].asString)
        assertFalse(list.has("params") && !list["params"].isJsonNull && list["params"].asJsonObject.size() > 0)
    }

    @Test
    fun `progress goes to the listener of its token, before the result`() {
        val events = CopyOnWriteArrayList<Any>()
        val f = client.create(CreateParams(source = "/src/app")) { events += it }
        f.thenAccept { events += "result:" + it.workspace.name }
        val req = wire.read()!!
        val token = req["params"].asJsonObject["workDoneToken"]
        // A progress for another token must not reach this listener.
        wire.writeRaw("""{"jsonrpc":"2.0","method":"$/progress","params":{"token":"other","value":{"kind":"begin","title":"x"}}}""")
        wire.writeRaw("""{"jsonrpc":"2.0","method":"$/progress","params":{"token":$token,"value":{"kind":"begin","title":"Creating app","cancellable":true}}}""")
        wire.writeRaw("""{"jsonrpc":"2.0","method":"$/progress","params":{"token":$token,"value":{"kind":"report","message":"Building image","output":"Step 1/2"}}}""")
        wire.writeRaw("""{"jsonrpc":"2.0","method":"$/progress","params":{"token":$token,"value":{"kind":"end","message":"Created app"}}}""")
        respond(req, """{"workspace":{"name":"app","state":"running","source":{"url":"/src/app","local":true}}}""")
        val result = f.get(5, TimeUnit.SECONDS)
        assertEquals(WorkspaceState.RUNNING, result.workspace.stateValue)
        assertEquals(
            listOf(
                ProgressEvent.Begin("Creating app", null, null, true),
                ProgressEvent.Report("Building image", "Step 1/2", null),
                ProgressEvent.End("Created app"),
                "result:app",
            ),
            events.toList(),
        )
    }

    @Test
    fun `cancelling a call sends cancelRequest with its id`() {
        val f = client.rebuild("app") { }
        val req = wire.read()!!
        assertTrue(f.cancel(true))
        val cancel = wire.read()!!
        assertEquals("$/cancelRequest", cancel["method"].asString)
        assertEquals(req["id"], cancel["params"].asJsonObject["id"])
        assertThrows(CancellationException::class.java) { f.get(5, TimeUnit.SECONDS) }
        // The server's late answer is harmless.
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"error":{"code":-32800,"message":"request cancelled"}}""")
        val g = client.list()
        respond(wire.read()!!, """{"workspaces":[]}""")
        assertEquals(emptyList<Workspace>(), g.get(5, TimeUnit.SECONDS))
    }

    @Test
    fun `error responses become BridgeException with code and workspace`() {
        val f = client.stop("apu")
        val req = wire.read()!!
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"error":{"code":1002,"message":"workspace does not exist: \"apu\"","data":{"workspace":"apu"}}}""")
        val e = assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }
        val be = assertInstanceOf(BridgeException::class.java, e.cause)
        assertEquals(ErrorCodes.NOT_FOUND, be.code)
        assertEquals("apu", be.workspace)
        assertEquals("workspace does not exist: \"apu\"", be.message)
    }

    @Test
    fun `a trust error carries what needs trust, and the retry sends trust`() {
        val f = client.start("api")
        val req = wire.read()!!
        assertEquals(json("""{"name":"api"}"""), req["params"])
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"error":{"code":1010,"message":"trust it","data":{"workspace":"api","trust":{"source":"/src/api","configPath":".devcontainer/devcontainer.json","items":[{"kind":"initializeCommand","detail":"./prep.sh","from":"devcontainer.json"}]}}}}""")
        val be = assertInstanceOf(BridgeException::class.java, assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }.cause)
        assertEquals(ErrorCodes.TRUST_REQUIRED, be.code)
        assertEquals(TrustRequest("/src/api", ".devcontainer/devcontainer.json", listOf(TrustItem("initializeCommand", "./prep.sh", "devcontainer.json"))), be.trust)
        assertNull(be.unsaved)

        client.start("api", trust = true)
        assertEquals(json("""{"name":"api","trust":true}"""), wire.read()!!["params"])
        client.rebuild("api", trust = true)
        assertEquals(json("""{"name":"api","trust":true}"""), wire.read()!!["params"])
    }

    @Test
    fun `an unsaved-work error carries the work, and the retry sends discardChanges`() {
        val f = client.delete("api")
        val req = wire.read()!!
        assertEquals(json("""{"name":"api"}"""), req["params"])
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"error":{"code":1011,"message":"would lose work","data":{"workspace":"api","unsaved":{"clone":"/c","changes":[" M a.go"],"stashes":2,"unpushed":["abc wip"],"summary":"1 uncommitted change"}}}}""")
        val be = assertInstanceOf(BridgeException::class.java, assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }.cause)
        assertEquals(ErrorCodes.UNSAVED_WORK, be.code)
        assertEquals(UnsavedWork("/c", listOf(" M a.go"), 2, listOf("abc wip"), "1 uncommitted change"), be.unsaved)

        client.delete("api", discardChanges = true)
        assertEquals(json("""{"name":"api","discardChanges":true}"""), wire.read()!!["params"])
    }

    @Test
    fun `notifications reach their listeners`() {
        val changes = CopyOnWriteArrayList<DidChangeParams>()
        val messages = CopyOnWriteArrayList<String>()
        client.addChangeListener { changes += it }
        client.addMessageListener { type, msg, show -> messages += "$type:$show:$msg" }
        wire.writeRaw("""{"jsonrpc":"2.0","method":"workspace/didChange","params":{"name":"api","kind":"deleted","removed":true}}""")
        wire.writeRaw("""{"jsonrpc":"2.0","method":"window/logMessage","params":{"type":2,"message":"retrying"}}""")
        wire.writeRaw("""{"jsonrpc":"2.0","method":"window/showMessage","params":{"type":1,"message":"engine down"}}""")
        // A round trip orders the test after the notifications.
        val f = client.list()
        respond(wire.read()!!, """{"workspaces":[]}""")
        f.get(5, TimeUnit.SECONDS)
        assertEquals(listOf(DidChangeParams("api", "deleted", true, null)), changes.toList())
        assertEquals(listOf("2:false:retrying", "1:true:engine down"), messages.toList())
    }

    @Test
    fun `a response with id null does not end the connection`() {
        wire.writeRaw("""{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}""")
        wire.writeRaw("not json at all")
        val f = client.list()
        respond(wire.read()!!, """{"workspaces":[{"name":"a","state":"running"}]}""")
        assertEquals(listOf("a"), f.get(5, TimeUnit.SECONDS).map { it.name })
        assertFalse(client.closed.isDone)
    }

    @Test
    fun `the end of the stream fails calls in flight`() {
        val f = client.list()
        wire.read()
        lb.hangUp()
        val e = assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }
        assertInstanceOf(BridgeClosedException::class.java, e.cause)
        client.closed.get(5, TimeUnit.SECONDS)
        val later = client.list()
        val e2 = assertThrows(ExecutionException::class.java) { later.get(5, TimeUnit.SECONDS) }
        assertInstanceOf(BridgeClosedException::class.java, e2.cause)
    }

    @Test
    fun `shutdown is followed by exit`() {
        val f = client.shutdown()
        val req = wire.read()!!
        assertEquals("shutdown", req["method"].asString)
        respond(req, "null")
        f.get(5, TimeUnit.SECONDS)
        val exit = wire.read()!!
        assertEquals("exit", exit["method"].asString)
        assertNull(exit["id"])
    }
}
