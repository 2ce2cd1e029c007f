package dev.pitlane.core

import com.google.gson.Gson
import com.google.gson.JsonElement
import com.google.gson.JsonNull
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import com.google.gson.JsonPrimitive
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.MethodSource
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CancellationException
import java.util.concurrent.CompletableFuture
import java.util.concurrent.ExecutionException
import java.util.concurrent.TimeUnit

/**
 * Replays the bridge's transcripts (the JSONL files in testdata/transcripts) through
 * the Kotlin client against the real `pitlane bridge`.
 *
 * Each client line is sent through [BridgeClient]: with its typed call when
 * the line's params are exactly what that call sends (then the bytes the
 * client wrote are compared with the line, up to the request id and progress
 * token, which the client picks itself), otherwise as a raw request or
 * notification through the same lsp4j connection; "clientRaw" frames go to
 * the bridge's stdin as they are. The server's messages are read off the wire
 * and matched against the transcript's patterns, and each typed call must
 * end the way its response says: a value, or a [BridgeException] with the
 * response's code.
 */
class TranscriptReplayTest {
    companion object {
        @JvmStatic
        fun transcripts(): List<String> {
            val dir = Repo.root.resolve("testdata/transcripts")
            val names = Files.list(dir).use { s -> s.map { it.fileName.toString() }.filter { it.endsWith(".jsonl") }.sorted().toList() }
            assertTrue(names.isNotEmpty(), "no transcripts in $dir")
            return names
        }
    }

    private val gson = Gson()

    /** A typed call in flight and the transcript line that sent it. */
    private class Call(val line: Int, val future: CompletableFuture<*>, var expected: JsonObject? = null, var cancelled: Boolean = false)

    @ParameterizedTest(name = "{0}")
    @MethodSource("transcripts")
    fun replay(file: String) {
        val bin = TestEnv.binaryOrSkip()
        val path = Repo.root.resolve("testdata/transcripts").resolve(file)
        val lines = Files.readAllLines(path).withIndex().filter { it.value.isNotBlank() }
        val header = JsonParser.parseString(lines.first().value).asJsonObject["header"]?.asJsonObject
            ?: fail("$file: the first line is not a header")
        val ignore = header["ignore"]?.asJsonArray?.map { it.asString }?.toSet().orEmpty()
        val timeout = (header["timeoutSeconds"]?.asLong ?: 10L).coerceAtLeast(10L)

        TestEnv("jbtr").use { t ->
            val vars = HashMap<String, String>()
            vars["NAME"] = "jbtr-${t.run}"
            vars["SOURCE"] = writeSource(t.dir.resolve("src"))
            vars["SLOW_SOURCE"] = t.dir.resolve("slow-src").also {
                Files.createDirectories(it)
                Files.writeString(it.resolve("Dockerfile"), "FROM pitlane/base:bookworm\nRUN echo building ${System.nanoTime()} && sleep 120\n")
            }.toString()
            vars["DETECT_SOURCE"] = t.dir.resolve("detect-src").also {
                Files.createDirectories(it)
                Files.writeString(it.resolve("go.mod"), "module example.com/detect\n\ngo 1.24.2\n")
            }.toString()
            for (v in header["vars"]?.asJsonArray.orEmpty()) assertTrue(vars.containsKey(v.asString), "$file needs variable ${v.asString}")

            val pb = ProcessBuilder(bin.toString(), "bridge")
            pb.environment().putAll(t.env)
            pb.redirectError(t.dir.resolve("bridge.stderr").toFile())
            val process = pb.start()
            val inTap = FrameTap()
            val outTap = FrameTap()
            val client = BridgeClient.connect(inTap.tee(process.inputStream), outTap.tee(process.outputStream))
            try {
                Replay(file, ignore, timeout, vars, process, client, inTap, outTap).run(lines.drop(1))
            } catch (e: Throwable) {
                val log = runCatching { Files.readAllLines(t.dir.resolve("bridge.stderr")).takeLast(20).joinToString("\n") }.getOrDefault("")
                throw AssertionError("${e.message}\nbridge stderr:\n$log", e)
            } finally {
                client.close()
                process.destroy()
                process.waitFor(10, TimeUnit.SECONDS)
                if (process.isAlive) process.destroyForcibly()
            }
        }
    }

    /** The same sources the Go replayer uses: a devcontainer.json on the base image. */
    private fun writeSource(dir: Path): String {
        Files.createDirectories(dir.resolve(".devcontainer"))
        Files.writeString(dir.resolve(".devcontainer/devcontainer.json"), """{"image": "pitlane/base:bookworm", "postCreateCommand": "echo ready"}""" + "\n")
        return dir.toString()
    }

    private inner class Replay(
        val file: String,
        val ignore: Set<String>,
        val timeoutSeconds: Long,
        val vars: MutableMap<String, String>,
        val process: Process,
        val client: BridgeClient,
        val inTap: FrameTap,
        val outTap: FrameTap,
    ) {
        private val ids = HashMap<String, JsonElement>() // transcript id -> id on the wire
        private val tokens = HashMap<String, JsonElement>() // transcript token -> token on the wire
        private val calls = HashMap<String, Call>() // transcript id -> typed call
        private val block = ArrayList<Pair<Int, JsonObject>>()
        private var typedCount = 0
        private var rawCount = 0
        private var matched = 0
        private var logLines = 0 // lines of workspace/logAppended seen on the wire
        private val appended = java.util.concurrent.ConcurrentLinkedQueue<String>() // what reached followLogs listeners

        fun run(entries: List<IndexedValue<String>>) {
            for ((index, text) in entries) {
                val line = index + 1
                val e = JsonParser.parseString(text).asJsonObject
                when {
                    e.has("comment") -> {}
                    e.has("server") -> block += line to mapPattern(e["server"].asJsonObject)
                    e.has("client") -> {
                        flush()
                        send(line, TranscriptPattern.substituteAll(e["client"], vars).asJsonObject)
                    }
                    e.has("clientRaw") -> {
                        flush()
                        val raw = TranscriptPattern.substitute(e["clientRaw"].asString, vars)
                        process.outputStream.write(raw.toByteArray(UTF_8))
                        process.outputStream.flush()
                    }
                    e.has("exit") -> {
                        flush()
                        assertTrue(process.waitFor(timeoutSeconds, TimeUnit.SECONDS), "$file:$line: the bridge did not end")
                        assertEquals(e["exit"].asInt, process.exitValue(), "$file:$line: exit status")
                        client.closed.get(10, TimeUnit.SECONDS)
                        while (true) {
                            val m = inTap.frames.poll() ?: break
                            assertTrue(ignorable(m), "$file:$line: unexpected message before exit: $m")
                        }
                        checkCalls()
                        return
                    }
                    else -> fail<Unit>("$file:$line: unknown entry $text")
                }
            }
            flush()
            checkCalls()
        }

        /** Replaces the transcript's request id and progress token by the ones the client put on the wire. */
        private fun mapPattern(p: JsonObject): JsonObject {
            val out = p.deepCopy()
            val id = p["id"]
            if (id != null && !id.isJsonNull) {
                ids[id.asString]?.let { out.add("id", it) }
                calls[id.asString]?.expected = p
            }
            if (p["method"]?.asString == Protocol.PROGRESS) {
                val params = out["params"].asJsonObject
                tokens[params["token"].asString]?.let { params.add("token", it) }
            }
            return TranscriptPattern.substituteAll(out, emptyMap()).asJsonObject
        }

        private fun ignorable(m: JsonElement): Boolean {
            val o = m.asJsonObject
            return !o.has("id") && o["method"]?.asString in ignore
        }

        /** Waits until every pattern of the block has been matched by a message from the bridge. */
        private fun flush() {
            val deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds)
            while (block.isNotEmpty()) {
                val left = deadline - System.nanoTime()
                val m = inTap.frames.poll(maxOf(left, 0), TimeUnit.NANOSECONDS)
                    ?: fail("$file:${block[0].first}: no matching message within ${timeoutSeconds}s; still expected: ${block[0].second}")
                val i = block.indexOfFirst { (_, pat) ->
                    val bind = HashMap<String, String>()
                    TranscriptPattern.match(pat, m, vars, bind).also { if (it) vars.putAll(bind) }
                }
                if (i >= 0) {
                    if (m.asJsonObject["method"]?.asString == Protocol.LOG_APPENDED) logLines += m.asJsonObject["params"].asJsonObject["lines"].asJsonArray.size()
                    matched++
                    block.removeAt(i)
                    continue
                }
                if (ignorable(m)) continue
                fail<Unit>("$file:${block[0].first}: unexpected message $m; expected one of the block starting here: ${block[0].second}")
            }
        }

        private fun send(line: Int, msg: JsonObject) {
            val method = msg["method"].asString
            val tid = msg["id"]
            val params = msg["params"]
            if (tid == null) {
                notification(line, method, params)
                return
            }
            val typed = typedCall(method, params)
            val future = typed ?: client.request(method, params)
            val sent = nextOutgoing(line)
            ids[tid.asString] = sent["id"]
            if (typed != null) typedCount++ else rawCount++
            if (typed != null) {
                calls[tid.asString] = Call(line, typed)
                val token = (params as? JsonObject)?.get("workDoneToken")
                if (token != null) tokens[token.asString] = sent["params"].asJsonObject["workDoneToken"]
                assertEquals(normalize(msg, method), normalize(sent, method), "$file:$line: what the typed call sent")
            } else {
                assertEquals(params ?: JsonNull.INSTANCE, sent["params"] ?: JsonNull.INSTANCE, "$file:$line: raw params")
            }
        }

        private fun notification(line: Int, method: String, params: JsonElement?) {
            when (method) {
                Protocol.EXIT -> client.exit()
                Protocol.CANCEL_REQUEST -> {
                    val tid = params!!.asJsonObject["id"].asString
                    val call = calls[tid] ?: fail("$file:$line: cancel of a request that was not a typed call")
                    call.cancelled = true
                    if (!call.future.cancel(true) && !answeredCancelled(call.future)) {
                        val outcome = runCatching { call.future.get() }.fold({ "result $it" }, { "error $it" })
                        fail<Unit>("$file:$line: the call had already ended before the cancel: $outcome")
                    }
                }
                else -> client.notify(method, params)
            }
            val sent = nextOutgoing(line)
            assertEquals(method, sent["method"].asString, "$file:$line")
            if (method == Protocol.CANCEL_REQUEST) {
                assertEquals(ids[params!!.asJsonObject["id"].asString], sent["params"].asJsonObject["id"], "$file:$line: cancelled id")
            }
        }

        private fun nextOutgoing(line: Int): JsonObject =
            (outTap.frames.poll(5, TimeUnit.SECONDS) ?: fail("$file:$line: the client sent nothing")).asJsonObject

        /** The message without what the client picks itself: id, token, and its own clientInfo. */
        private fun normalize(m: JsonObject, method: String): JsonObject {
            val o = m.deepCopy()
            o.remove("id")
            val p = o["params"] as? JsonObject
            p?.remove("workDoneToken")
            if (method == Protocol.INITIALIZE) p?.remove("clientInfo")
            if (p != null && p.size() == 0) o.remove("params")
            return o
        }

        /**
         * The typed call for a request, or null when the line's params are not
         * exactly what a typed call sends (a wrong type, a missing field,
         * an unknown method): those go out raw.
         */
        private fun typedCall(method: String, params: JsonElement?): CompletableFuture<*>? {
            val p = params as? JsonObject
            val token = p?.get("workDoneToken")
            val listener = token?.let { ProgressListener { } }
            fun <T : Any> decode(cls: Class<T>): T? {
                if (p == null) return null
                val v = runCatching { gson.fromJson(p, cls) }.getOrNull() ?: return null
                val again = gson.toJsonTree(v).asJsonObject
                val want = p.deepCopy().also { it.remove("workDoneToken") }
                again.remove("workDoneToken")
                return if (again == want) v else null
            }
            return when (method) {
                // The typed call always asks for this client's version; other versions go out raw.
                Protocol.INITIALIZE -> decode(InitializeParams::class.java)?.takeIf { it.protocolVersion == Protocol.VERSION }?.let { client.initialize(it.clientInfo.version) }
                Protocol.SHUTDOWN -> if (p == null) client.shutdown(thenExit = false) else null
                Protocol.WORKSPACE_LIST -> if (p == null) client.list() else null
                Protocol.WORKSPACE_CREATE -> decode(CreateParams::class.java)?.let { client.create(it, listener) }
                Protocol.WORKSPACE_START -> decode(StartParams::class.java)?.let { client.start(it.name, it.trust == true, listener) }
                Protocol.WORKSPACE_REBUILD -> decode(RebuildParams::class.java)?.let { client.rebuild(it.name, it.trust == true, listener) }
                Protocol.WORKSPACE_STOP -> decode(NameParams::class.java)?.let { client.stop(it.name) }
                Protocol.WORKSPACE_DELETE -> decode(DeleteParams::class.java)?.let { client.delete(it.name, it.discardChanges == true) }
                Protocol.WORKSPACE_OPEN -> decode(OpenParams::class.java)?.let { client.open(it.name, it.ide) }
                Protocol.WORKSPACE_LOGS -> decode(LogsParams::class.java)?.let {
                    if (it.follow == true) client.followLogs(it.name, it.tail) { lines -> appended.addAll(lines) } else if (it.follow == null) client.logs(it.name, it.tail) else null
                }
                Protocol.WORKSPACE_UNFOLLOW_LOGS -> decode(UnfollowLogsParams::class.java)?.let { client.unfollowLogs(it.followId) }
                Protocol.WORKSPACE_PORTS -> decode(NameParams::class.java)?.let { client.ports(it.name) }
                Protocol.WORKSPACE_FORWARD_PORT -> decode(ForwardPortParams::class.java)?.let { client.forwardPort(it.name, it.port, it.localPort) }
                Protocol.WORKSPACE_STOP_FORWARDING -> decode(StopForwardingParams::class.java)?.let { client.stopForwarding(it.name, it.port) }
                Protocol.PROVIDER_LIST -> if (p == null) client.providers() else null
                Protocol.WORKSPACE_CONFIGS -> decode(ConfigsParams::class.java)?.let { client.configs(it.source) }
                Protocol.WORKSPACE_DETECT -> decode(DetectParams::class.java)?.let { client.detect(it.source, it.files) }
                Protocol.TELEMETRY_SET_CONSENT -> decode(SetConsentParams::class.java)?.let { client.setConsent(it.enabled, it.ideTelemetryEnabled) }
                else -> null
            }
        }

        /** Each typed call ended as its response said. */
        private fun checkCalls() {
            println("$file: $typedCount typed calls, $rawCount raw requests, $matched server messages matched")
            assertTrue(typedCount > 0, "$file: no line went through a typed call")
            // Every appended line the transcript expected reached the listener of the typed follow.
            if (logLines > 0) assertTrue(appended.size >= logLines, "$file: ${appended.size} lines reached the log listener, the bridge sent $logLines")
            for ((tid, call) in calls) {
                val where = "$file:${call.line} (id $tid)"
                val expected = call.expected
                if (call.cancelled) {
                    // Cancelled on the client, or answered -32800 first (see answeredCancelled).
                    val e = assertThrows<Exception>(where) { call.future.get(timeoutSeconds, TimeUnit.SECONDS) }
                    assertTrue(e is CancellationException || answeredCancelled(call.future), "$where: not cancelled: $e")
                    continue
                }
                if (expected == null) continue
                val error = expected["error"]?.asJsonObject
                if (error != null) {
                    val e = assertThrows<ExecutionException>(where) { call.future.get(timeoutSeconds, TimeUnit.SECONDS) }
                    val be = assertInstanceOf(BridgeException::class.java, e.cause, where)
                    assertEquals(error["code"].asInt, be.code, where)
                    error["data"]?.asJsonObject?.get("workspace")?.let { w ->
                        assertEquals(TranscriptPattern.substitute(w.asString, vars), be.workspace, where)
                    }
                } else {
                    try {
                        call.future.get(timeoutSeconds, TimeUnit.SECONDS)
                    } catch (e: Exception) {
                        fail<Unit>("$where: the typed call failed though the bridge answered with a result", e)
                    }
                }
            }
        }

        private inline fun <reified T : Throwable> assertThrows(where: String, f: () -> Unit): T {
            try {
                f()
            } catch (t: Throwable) {
                if (t is T) return t
                fail<Unit>("$where: expected ${T::class.simpleName}, got $t", t)
            }
            fail<Unit>("$where: expected ${T::class.simpleName}, the call succeeded")
            throw IllegalStateException()
        }
    }
}

private fun JsonElement?.orEmpty() = this?.asJsonArray ?: com.google.gson.JsonArray()

/**
 * lsp4j sends `$/cancelRequest` before it marks its own future cancelled, so
 * a quick -32800 answer can complete the future first. That is a cancel too.
 */
internal fun answeredCancelled(f: java.util.concurrent.Future<*>): Boolean =
    f.isDone && (runCatching { f.get() }.exceptionOrNull()?.cause as? BridgeException)?.isCancelled == true
