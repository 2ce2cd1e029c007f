package dev.pitlane.core

import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import java.util.concurrent.CompletableFuture
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.ExecutionException
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit

/** Protocol version 2 on the client side: follows, ports, providers, consent retries; against a scripted server. */
class ProtocolV2Test {
    private val lb = Loopback()
    private val wire get() = lb.wire
    private val client get() = lb.client

    @AfterEach
    fun tearDown() = lb.close()

    private fun json(s: String): JsonObject = JsonParser.parseString(s).asJsonObject

    private fun respond(req: JsonObject, result: String) =
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"result":$result}""")

    private fun fail(req: JsonObject, code: Int, data: String) =
        wire.writeRaw("""{"jsonrpc":"2.0","id":${req["id"]},"error":{"code":$code,"message":"error $code","data":$data}}""")

    private fun notify(method: String, params: String) =
        wire.writeRaw("""{"jsonrpc":"2.0","method":"$method","params":$params}""")

    @Test
    fun `initialize asks for version 2`() {
        client.initialize()
        assertEquals(2, wire.read()!!["params"].asJsonObject["protocolVersion"].asInt)
    }

    @Test
    fun `following a log delivers appended lines in order, also those sent before the answer, until unfollow`() {
        val got = LinkedBlockingQueue<String>()
        val f = client.followLogs("api", 50) { lines -> got.addAll(lines) }
        val req = wire.read()!!
        assertEquals("workspace/logs", req["method"].asString)
        assertEquals(json("""{"name":"api","tail":50,"follow":true}"""), req["params"])
        // The bridge starts following before it answers, so a batch may come first.
        notify("workspace/logAppended", """{"followId":"f7","name":"api","lines":["early"]}""")
        notify("workspace/logAppended", """{"followId":"other","name":"web","lines":["not ours"]}""")
        respond(req, """{"path":"/l","lines":["old"],"followId":"f7"}""")
        val follow = f.get(5, TimeUnit.SECONDS)
        assertEquals(listOf("old"), follow.result.lines)
        assertEquals("f7", follow.followId)
        notify("workspace/logAppended", """{"followId":"f7","name":"api","lines":["a","b"]}""")
        assertEquals(listOf("early", "a", "b"), List(3) { got.poll(5, TimeUnit.SECONDS) })

        val stop = follow.stop()
        val un = wire.read()!!
        assertEquals("workspace/unfollowLogs", un["method"].asString)
        assertEquals(json("""{"followId":"f7"}"""), un["params"])
        notify("workspace/logAppended", """{"followId":"f7","name":"api","lines":["late"]}""")
        respond(un, "null")
        stop.get(5, TimeUnit.SECONDS)
        assertEquals(null, got.poll(300, TimeUnit.MILLISECONDS), "no lines after unfollow")
    }

    @Test
    fun `a bridge that does not follow fails the follow with a message`() {
        val f = client.followLogs("api") { }
        respond(wire.read()!!, """{"path":"/l","lines":[]}""")
        val e = assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }
        assertTrue(e.cause!!.message!!.contains("update pitlane"), e.cause!!.message)
    }

    @Test
    fun `ports, forwarding and portsChanged`() {
        val pushed = CopyOnWriteArrayList<Pair<String, List<Port>>>()
        client.addPortsListener { name, ports -> pushed += name to ports }

        val pf = client.ports("api")
        val req = wire.read()!!
        assertEquals(json("""{"name":"api"}"""), req["params"])
        respond(req, """{"ports":[{"port":3000,"label":"web","source":"forwardPorts","protocol":"tcp"},{"port":9229,"source":"detected","protocol":"tcp"}]}""")
        assertEquals(listOf(Port(3000, "web", "forwardPorts", "tcp"), Port(9229, null, "detected", "tcp")), pf.get(5, TimeUnit.SECONDS))

        val ff = client.forwardPort("api", 3000)
        val fr = wire.read()!!
        assertEquals("workspace/forwardPort", fr["method"].asString)
        assertEquals(json("""{"name":"api","port":3000}"""), fr["params"])
        respond(fr, """{"port":3000,"label":"web","source":"forwardPorts","protocol":"tcp","forwarded":{"localPort":3001,"url":"http://127.0.0.1:3001/"},"message":"local port 3000 is busy; forwarded to 3001"}""")
        val r = ff.get(5, TimeUnit.SECONDS)
        assertEquals(Forwarded(3001, "http://127.0.0.1:3001/"), r.forwarded)
        assertEquals("api: local port 3000 is busy; forwarded to 3001.", PortText.forwarded("api", r))

        notify("workspace/portsChanged", """{"name":"api","ports":[{"port":3000,"source":"forwardPorts","protocol":"tcp"}]}""")
        val sf = client.stopForwarding("api", 3000)
        val st = wire.read()!!
        assertEquals(json("""{"name":"api","port":3000}"""), st["params"])
        respond(st, "null")
        sf.get(5, TimeUnit.SECONDS)
        assertEquals(listOf("api" to listOf(Port(3000, null, "forwardPorts", "tcp"))), pushed.toList())
    }

    @Test
    fun `providers, and create on one`() {
        val f = client.providers()
        val req = wire.read()!!
        assertEquals("provider/list", req["method"].asString)
        respond(req, """{"providers":[{"name":"local","kind":"docker","default":true,"description":"Docker on this machine"},{"name":"dev","kind":"kubernetes","default":false,"description":"context kind-dev"}]}""")
        val list = f.get(5, TimeUnit.SECONDS)
        val choice = CreateForm.providerChoice(list)!!
        assertEquals("local", CreateForm.defaultProvider(choice)!!.name)
        assertEquals("dev (kubernetes): context kind-dev", CreateForm.providerLabel(choice[1]))

        client.create(CreateForm.params("/src/app", "", "", null, null, provider = choice[1]))
        assertEquals(json("""{"source":"/src/app","provider":"dev"}"""), wire.read()!!["params"])
        // The default provider is not named: absent means the default.
        client.create(CreateForm.params("/src/app", "", "", null, null, provider = choice[0]))
        assertEquals(json("""{"source":"/src/app"}"""), wire.read()!!["params"])
    }

    @Test
    fun `trust retry asks once and sends the request again with trust`() {
        val asked = CopyOnWriteArrayList<TrustRequest>()
        val f = Retry.withTrust({ r, _ -> asked += r; CompletableFuture.completedFuture(true) }) { trust -> client.rebuild("api", trust) }
        val first = wire.read()!!
        assertEquals(json("""{"name":"api"}"""), first["params"])
        fail(first, 1010, """{"workspace":"api","trust":{"source":"/src/api","items":[{"kind":"bindMount","detail":"/var/run/docker.sock"}]}}""")
        val second = wire.read()!!
        assertEquals(json("""{"name":"api","trust":true}"""), second["params"])
        respond(second, """{"workspace":{"name":"api","state":"running","actions":["open","stop"]}}""")
        assertEquals(listOf("open", "stop"), f.get(5, TimeUnit.SECONDS).actions)
        assertEquals(listOf(TrustItem("bindMount", "/var/run/docker.sock")), asked.single().items)
    }

    @Test
    fun `declining trust sends nothing more`() {
        val f = Retry.withTrust({ _, _ -> CompletableFuture.completedFuture(false) }) { trust -> client.start("api", trust) }
        fail(wire.read()!!, 1010, """{"trust":{"source":"/src/api","items":[]}}""")
        // A cancellation, so get() throws it as it is and the IDE's task ends quietly.
        assertThrows(DeclinedException::class.java) { f.get(5, TimeUnit.SECONDS) }
        // The next message on the wire is this list, not a retry.
        client.list()
        assertEquals("workspace/list", wire.read()!!["method"].asString)
    }

    @Test
    fun `other errors pass through the retry unchanged`() {
        val f = Retry.withTrust({ _, _ -> error("must not ask") }) { trust -> client.start("api", trust) }
        fail(wire.read()!!, 1002, """{"workspace":"api"}""")
        val e = assertThrows(ExecutionException::class.java) { f.get(5, TimeUnit.SECONDS) }
        assertEquals(ErrorCodes.NOT_FOUND, assertInstanceOf(BridgeException::class.java, e.cause).code)
    }

    @Test
    fun `unsaved work asks and deletes again with discardChanges`() {
        val asked = CopyOnWriteArrayList<String>()
        val f = Retry.withDiscard({ w, _ -> asked += ConsentText.unsaved("api", w); CompletableFuture.completedFuture(true) }) { d -> client.delete("api", d) }
        fail(wire.read()!!, 1011, """{"workspace":"api","unsaved":{"clone":"/c","changes":[" M main.go"],"unpushed":["3f1c2a9 wip"],"summary":"1 uncommitted change and 1 commit on no remote"}}""")
        val second = wire.read()!!
        assertEquals(json("""{"name":"api","discardChanges":true}"""), second["params"])
        respond(second, "null")
        f.get(5, TimeUnit.SECONDS)
        val text = asked.single()
        assertTrue(text.startsWith("Deleting api loses work that exists only in its clone: 1 uncommitted change and 1 commit on no remote."), text)
        assertTrue(text.contains("Uncommitted changes:\n   M main.go\n"), text)
        assertTrue(text.contains("Commits on no remote:\n  3f1c2a9 wip\n"), text)
    }

    @Test
    fun `cancelling while the question is open sends no retry`() {
        val answer = CompletableFuture<Boolean>()
        val f = Retry.withTrust({ _, _ -> answer }) { trust -> client.start("api", trust) }
        fail(wire.read()!!, 1010, """{"trust":{"source":"/s","items":[]}}""")
        Thread.sleep(100)
        f.cancel(true)
        answer.complete(true)
        client.list()
        assertEquals("workspace/list", wire.read()!!["method"].asString)
    }
}
