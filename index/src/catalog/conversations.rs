//! Conversations with the agent: a titled list of turns, each a question, the standalone query it
//! was searched as, the answer and its citations (opaque JSON written by the agent).

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Catalog, CatalogError, Result, now};

/// One conversation, without its turns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversationSummary {
    /// Conversation id.
    pub id: i64,
    /// Title (the first question, shortened).
    pub title: String,
    /// When it started (RFC 3339, UTC).
    pub created_at: String,
    /// When its last turn was added.
    pub updated_at: String,
    /// Number of turns.
    pub turns: u64,
}

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Turn id.
    pub id: i64,
    /// The question as asked.
    pub question: String,
    /// The query the library was searched with (the question made standalone).
    pub query: String,
    /// The answer text.
    pub answer: String,
    /// The citations, as JSON written by the agent.
    pub citations: String,
    /// How it was answered (`llm`, `extractive`).
    pub mode: String,
    /// The chat model that answered, if any.
    pub model: Option<String>,
    /// When it was asked (RFC 3339, UTC).
    pub created_at: String,
}

/// A turn to record.
#[derive(Debug, Clone, Copy)]
pub struct NewTurn<'a> {
    /// The question as asked.
    pub question: &'a str,
    /// The query the library was searched with.
    pub query: &'a str,
    /// The answer text.
    pub answer: &'a str,
    /// The citations as JSON.
    pub citations: &'a str,
    /// How it was answered.
    pub mode: &'a str,
    /// The chat model, if any.
    pub model: Option<&'a str>,
}

/// Orders conversations by their newest turn (turn ids only grow; timestamps have one-second
/// resolution), new conversations without turns by their own id.
const LATEST: &str =
    "COALESCE((SELECT MAX(t.id) FROM turns t WHERE t.conversation_id = c.id), 0) DESC, c.id DESC";

/// A conversation summary from a row of (id, title, created_at, updated_at, turn count).
fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        created_at: r.get(2)?,
        updated_at: r.get(3)?,
        turns: r.get::<_, i64>(4)?.max(0) as u64,
    })
}

/// A turn from a row of (id, question, query, answer, citations, mode, model, created_at).
fn turn_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Turn> {
    Ok(Turn {
        id: r.get(0)?,
        question: r.get(1)?,
        query: r.get(2)?,
        answer: r.get(3)?,
        citations: r.get(4)?,
        mode: r.get(5)?,
        model: r.get(6)?,
        created_at: r.get(7)?,
    })
}

/// Longest conversation title kept, in characters.
const TITLE_CHARS: usize = 80;

fn title_of(question: &str) -> String {
    let one_line = question.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= TITLE_CHARS {
        return one_line;
    }
    let mut t: String = one_line.chars().take(TITLE_CHARS - 1).collect();
    t.push('…');
    t
}

impl Catalog {
    /// Starts a conversation titled after its first question; returns its id.
    pub fn create_conversation(&self, first_question: &str) -> Result<i64> {
        let t = now();
        self.conn
            .execute(
                "INSERT INTO conversations(title, created_at, updated_at) VALUES (?1, ?2, ?2)",
                params![title_of(first_question), t],
            )
            .map_err(CatalogError::classify)?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Appends a turn to a conversation; returns the turn id.
    pub fn add_turn(&mut self, conversation: i64, turn: &NewTurn<'_>) -> Result<i64> {
        let t = now();
        let tx = self.conn.transaction()?;
        let changed =
            tx.execute("UPDATE conversations SET updated_at = ?1 WHERE id = ?2", params![t, conversation])?;
        if changed == 0 {
            return Err(CatalogError::NotFound(format!("conversation {conversation}")));
        }
        tx.execute(
            "INSERT INTO turns(conversation_id, question, query, answer, citations, mode, model, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                conversation,
                turn.question,
                turn.query,
                turn.answer,
                turn.citations,
                turn.mode,
                turn.model,
                t
            ],
        )
        .map_err(CatalogError::classify)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(CatalogError::classify)?;
        Ok(id)
    }

    /// Conversations, most recently continued first.
    pub fn conversations(&self, limit: usize) -> Result<Vec<ConversationSummary>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT c.id, c.title, c.created_at, c.updated_at,
                    (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id)
             FROM conversations c ORDER BY {LATEST} LIMIT ?1"
        ))?;
        let rows = stmt.query_map([limit.min(i64::MAX as usize) as i64], summary_from_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The most recently continued conversation, if any.
    pub fn last_conversation(&self) -> Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(&format!("SELECT c.id FROM conversations c ORDER BY {LATEST} LIMIT 1"), [], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// A conversation's summary, if it exists.
    pub fn conversation(&self, id: i64) -> Result<Option<ConversationSummary>> {
        Ok(self
            .conn
            .query_row(
                "SELECT c.id, c.title, c.created_at, c.updated_at,
                        (SELECT COUNT(*) FROM turns t WHERE t.conversation_id = c.id)
                 FROM conversations c WHERE c.id = ?1",
                [id],
                summary_from_row,
            )
            .optional()?)
    }

    /// The turns of a conversation, oldest first.
    pub fn turns(&self, conversation: i64) -> Result<Vec<Turn>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, question, query, answer, citations, mode, model, created_at
             FROM turns WHERE conversation_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([conversation], turn_from_row)?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// Deletes a conversation and its turns; false when it did not exist.
    pub fn delete_conversation(&self, id: i64) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM conversations WHERE id = ?1", [id])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn<'a>(q: &'a str, a: &'a str) -> NewTurn<'a> {
        NewTurn { question: q, query: q, answer: a, citations: "[]", mode: "extractive", model: None }
    }

    #[test]
    fn conversations_keep_their_turns_in_order() {
        let mut cat = Catalog::open_in_memory().unwrap();
        assert_eq!(cat.last_conversation().unwrap(), None);
        let a = cat.create_conversation("What is a tail call?\nAnd why?").unwrap();
        cat.add_turn(a, &turn("What is a tail call?", "One in tail position [1].")).unwrap();
        let b = cat.create_conversation("Second").unwrap();
        cat.add_turn(b, &turn("Second", "x")).unwrap();
        cat.add_turn(a, &turn("And why?", "Because [2].")).unwrap();

        // `a` was continued last.
        assert_eq!(cat.last_conversation().unwrap(), Some(a));
        let list = cat.conversations(10).unwrap();
        assert_eq!(list.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(list[0].title, "What is a tail call? And why?");
        assert_eq!(list[0].turns, 2);
        let turns = cat.turns(a).unwrap();
        assert_eq!(
            turns.iter().map(|t| t.question.as_str()).collect::<Vec<_>>(),
            ["What is a tail call?", "And why?"]
        );
        assert_eq!(turns[1].answer, "Because [2].");

        assert!(cat.add_turn(9999, &turn("q", "a")).is_err());
        assert!(cat.delete_conversation(a).unwrap());
        assert!(cat.turns(a).unwrap().is_empty());
        assert_eq!(cat.conversation(a).unwrap(), None);
    }

    #[test]
    fn long_titles_are_shortened() {
        let t = title_of(&"word ".repeat(40));
        assert_eq!(t.chars().count(), TITLE_CHARS);
        assert!(t.ends_with('…'));
    }
}
