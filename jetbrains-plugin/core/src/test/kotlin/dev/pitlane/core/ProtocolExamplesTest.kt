package dev.pitlane.core

import com.google.gson.JsonElement
import com.google.gson.JsonNull
import com.google.gson.JsonObject
import com.google.gson.JsonParser
import org.eclipse.lsp4j.jsonrpc.json.JsonRpcMethod
import org.eclipse.lsp4j.jsonrpc.json.MessageJsonHandler
import org.eclipse.lsp4j.jsonrpc.messages.NotificationMessage
import org.eclipse.lsp4j.jsonrpc.messages.RequestMessage
import org.eclipse.lsp4j.jsonrpc.messages.ResponseMessage
import org.eclipse.lsp4j.jsonrpc.services.ServiceEndpoints
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Assertions.fail
import org.junit.jupiter.api.Test
import java.nio.file.Files

/**
 * Decodes every JSON example of protocol/PROTOCOL.md into the Kotlin types,
 * the way the client's lsp4j handler does, and encodes it again: every field
 * of the example must survive, which catches a misnamed or mistyped field.
 */
class ProtocolExamplesTest {
    private val methods: Map<String, JsonRpcMethod> = LinkedHashMap<String, JsonRpcMethod>().apply {
        putAll(ServiceEndpoints.getSupportedMethods(BridgeServer::class.java))
        putAll(ServiceEndpoints.getSupportedMethods(BridgeClientEndpoint::class.java))
    }

    @Test
    fun `every example of PROTOCOL md decodes into the client types`() {
        val doc = Files.readString(Repo.root.resolve("protocol/PROTOCOL.md"))
        val blocks = Regex("```json\\n(.*?)\\n```", RegexOption.DOT_MATCHES_ALL).findAll(doc).map { it.groupValues[1] }.toList()
        assertTrue(blocks.size >= 20, "expected the examples of PROTOCOL.md, found ${blocks.size} json blocks")

        val idToMethod = HashMap<String, String>()
        val handler = MessageJsonHandler(methods)
        handler.setMethodProvider { id -> idToMethod[id] }
        val gson = handler.gson
        val seen = HashSet<String>()

        for (block in blocks) {
            val raw = JsonParser.parseString(block).asJsonObject
            val method = raw["method"]?.asString
            if (method != null && raw.has("id")) idToMethod[raw["id"].asString] = method
            if (raw.has("id") && raw["id"].isJsonNull) {
                // lsp4j cannot decode a response with id null (the answer to an unparsable
                // frame, which this client never sends); BridgeClientTest checks it survives one.
                assertEquals(ErrorCodes.PARSE_ERROR, raw["error"].asJsonObject["code"].asInt)
                continue
            }
            when (val msg = handler.parseMessage(block)) {
                is RequestMessage -> {
                    seen += msg.method
                    check(msg.method, raw["params"], msg.params, gson)
                }
                is NotificationMessage -> {
                    seen += msg.method
                    // $/cancelRequest is lsp4j's own; the others are ours.
                    if (methods.containsKey(msg.method)) check(msg.method, raw["params"], msg.params, gson)
                }
                is ResponseMessage -> {
                    val m = raw["id"].takeUnless { it.isJsonNull }?.asString?.let(idToMethod::get)
                    if (raw.has("result") && m != null) check("$m result", raw["result"], msg.result, gson)
                    if (raw.has("error")) {
                        val err = raw["error"].asJsonObject
                        assertEquals(err["code"].asInt, msg.error.code)
                        // The data of Pitlane's errors decodes into ErrorData, as BridgeException reads it.
                        err["data"]?.takeIf { it.isJsonObject }?.let { covers("error ${err["code"]} data", it, gson.toJsonTree(gson.fromJson(it, ErrorData::class.java))) }
                    }
                }
                else -> fail("unexpected message kind for $block")
            }
        }
        // provider/list is documented with the providers; until then the client asks for it without an example.
        val undocumented = setOf(Protocol.PROVIDER_LIST).filter { !doc.contains("`$it`") }
        val expected = methods.keys - undocumented.toSet() + Protocol.CANCEL_REQUEST
        assertEquals(expected.sorted(), (seen intersect expected).sorted(), "methods without an example")
        assertEquals(emptySet<String>(), seen - expected, "methods of PROTOCOL.md the client does not know")
    }

    private fun check(what: String, original: JsonElement?, decoded: Any?, gson: com.google.gson.Gson) {
        val orig = original ?: JsonNull.INSTANCE
        val again = if (decoded == null) JsonNull.INSTANCE else gson.toJsonTree(decoded)
        covers(what, orig, again)
    }

    /** Every value of [orig] is in [again]; [again] adds only empty values (defaults). */
    private fun covers(path: String, orig: JsonElement, again: JsonElement) {
        when {
            orig.isJsonObject -> {
                assertTrue(again.isJsonObject, "$path: expected an object, got $again")
                val a = again.asJsonObject
                for ((k, v) in orig.asJsonObject.entrySet()) {
                    val w = a[k] ?: fail("$path.$k: the client type has no field \"$k\" (value $v)")
                    covers("$path.$k", v, w)
                }
                for ((k, w) in a.entrySet()) {
                    if (!orig.asJsonObject.has(k)) assertTrue(isEmpty(w), "$path.$k: the client adds $w")
                }
            }
            orig.isJsonArray -> {
                assertTrue(again.isJsonArray, "$path: expected an array, got $again")
                assertEquals(orig.asJsonArray.size(), again.asJsonArray.size(), path)
                orig.asJsonArray.zip(again.asJsonArray).forEachIndexed { i, (o, w) -> covers("$path[$i]", o, w) }
            }
            // The client sends string tokens; the server also accepts integers, which decode as their text.
            path.endsWith(".workDoneToken") || path.endsWith(".token") -> assertEquals(orig.asString, again.asString, path)
            else -> assertEquals(orig, again, path)
        }
    }

    private fun isEmpty(e: JsonElement): Boolean = when {
        e.isJsonNull -> true
        e.isJsonArray -> e.asJsonArray.isEmpty
        e.isJsonObject -> e.asJsonObject.entrySet().all { isEmpty(it.value) }
        else -> {
            val p = e.asJsonPrimitive
            (p.isBoolean && !p.asBoolean) || (p.isString && p.asString.isEmpty()) || (p.isNumber && p.asDouble == 0.0)
        }
    }
}
