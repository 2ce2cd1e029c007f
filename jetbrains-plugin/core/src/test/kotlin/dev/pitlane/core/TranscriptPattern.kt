package dev.pitlane.core

import com.google.gson.JsonArray
import com.google.gson.JsonElement
import com.google.gson.JsonObject
import com.google.gson.JsonPrimitive
import java.time.OffsetDateTime

/**
 * The pattern language of testdata/transcripts (the same rules as the Go
 * replayer in bridge/transcript_test.go): "<any>", "<string>", "<number>",
 * "<bool>", "<timestamp>", "<=VAR>" (binds VAR on first use, must equal it
 * after), "${VAR}" substituted inside strings, and an object with
 * "...": true allows members the pattern does not name.
 */
object TranscriptPattern {
    private val varRE = Regex("""\$\{([A-Z_][A-Z0-9_]*)\}""")

    fun substitute(s: String, vars: Map<String, String>): String =
        varRE.replace(s) { m -> vars[m.groupValues[1]] ?: m.value }

    fun substituteAll(e: JsonElement, vars: Map<String, String>): JsonElement = when {
        e.isJsonPrimitive && e.asJsonPrimitive.isString -> JsonPrimitive(substitute(e.asString, vars))
        e.isJsonObject -> JsonObject().also { o -> e.asJsonObject.entrySet().forEach { (k, v) -> o.add(k, substituteAll(v, vars)) } }
        e.isJsonArray -> JsonArray().also { a -> e.asJsonArray.forEach { a.add(substituteAll(it, vars)) } }
        else -> e
    }

    /** Whether [act] matches [exp]; new bindings go into [bind]. */
    fun match(exp: JsonElement, act: JsonElement, vars: Map<String, String>, bind: MutableMap<String, String>): Boolean {
        when {
            exp.isJsonPrimitive && exp.asJsonPrimitive.isString -> {
                val e = exp.asString
                val s = if (act.isJsonPrimitive && act.asJsonPrimitive.isString) act.asString else null
                when {
                    e == "<any>" -> return true
                    e == "<string>" -> return s != null
                    e == "<number>" -> return act.isJsonPrimitive && act.asJsonPrimitive.isNumber
                    e == "<bool>" -> return act.isJsonPrimitive && act.asJsonPrimitive.isBoolean
                    e == "<timestamp>" -> return s != null && runCatching { OffsetDateTime.parse(s) }.isSuccess
                    e.startsWith("<=") && e.endsWith(">") -> {
                        if (s == null) return false
                        val name = e.substring(2, e.length - 1)
                        (vars[name] ?: bind[name])?.let { return it == s }
                        bind[name] = s
                        return true
                    }
                }
                return s != null && substitute(e, vars + bind) == s
            }
            exp.isJsonObject -> {
                if (!act.isJsonObject) return false
                val eo = exp.asJsonObject
                val ao = act.asJsonObject
                for ((k, ev) in eo.entrySet()) {
                    if (k == "...") continue
                    val av = ao[k] ?: return false
                    if (!match(ev, av, vars, bind)) return false
                }
                return eo.has("...") || ao.keySet().all { eo.has(it) }
            }
            exp.isJsonArray -> {
                if (!act.isJsonArray || act.asJsonArray.size() != exp.asJsonArray.size()) return false
                return exp.asJsonArray.zip(act.asJsonArray).all { (e, a) -> match(e, a, vars, bind) }
            }
            else -> return exp == act
        }
    }
}
