//! Conversations kept in the catalog: each answer is recorded as a turn with its citations, and
//! earlier turns come back as the history of a follow-up.

use lore_index::catalog::{Catalog, NewTurn, Turn};

use crate::answer::{Answer, Citation};
use crate::error::Result;
use crate::prompt::PastTurn;

/// The last `max_turns` turns of a conversation, oldest first, as the model sees them.
pub fn history(catalog: &Catalog, conversation: i64, max_turns: usize) -> Result<Vec<PastTurn>> {
    let turns = catalog.turns(conversation)?;
    let skip = turns.len().saturating_sub(max_turns);
    Ok(turns.into_iter().skip(skip).map(|t| PastTurn { question: t.question, answer: t.answer }).collect())
}

/// Records `answer` as the next turn of `conversation`, or of a new conversation when `None`;
/// returns the conversation's id.
pub fn record(catalog: &mut Catalog, conversation: Option<i64>, answer: &Answer) -> Result<i64> {
    let id = match conversation {
        Some(id) => id,
        None => catalog.create_conversation(&answer.question)?,
    };
    let citations = serde_json::to_string(&answer.citations).unwrap_or_else(|_| "[]".to_string());
    catalog.add_turn(
        id,
        &NewTurn {
            question: &answer.question,
            query: &answer.query,
            answer: &answer.text,
            citations: &citations,
            mode: answer.mode.as_str(),
            model: answer.model.as_deref(),
        },
    )?;
    Ok(id)
}

/// The citations stored with a turn (empty when they cannot be read).
pub fn citations_of(turn: &Turn) -> Vec<Citation> {
    serde_json::from_str(&turn.citations).unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::answer::{AnswerMode, Timings};

    /// A model's answer to `q`, for tests that record turns.
    pub(crate) fn answer(q: &str, text: &str, cites: Vec<Citation>) -> Answer {
        Answer {
            question: q.into(),
            query: q.into(),
            text: text.into(),
            citations: cites,
            passages: vec![],
            mode: AnswerMode::Llm,
            model: Some("m".into()),
            finish_reason: None,
            notice: None,
            refused: false,
            withheld: None,
            verification: None,
            overview: None,
            timings: Timings::default(),
        }
    }

    #[test]
    fn answers_become_turns_and_come_back_as_history() {
        let mut cat = Catalog::open_in_memory().unwrap();
        let cite = Citation {
            n: 1,
            doc_id: 3,
            title: "FAQ".into(),
            kind: "html".into(),
            page: None,
            section: Some("GIL".into()),
            url: None,
            source: "/faq.html".into(),
            chunk_id: 77,
            text: "The GIL is a lock.".into(),
            inferred: false,
        };
        let id =
            record(&mut cat, None, &answer("What is the GIL?", "A lock [1].", vec![cite.clone()])).unwrap();
        let same = record(&mut cat, Some(id), &answer("Why?", "Safety [1].", vec![])).unwrap();
        assert_eq!(id, same);
        let h = history(&cat, id, 1).unwrap();
        assert_eq!(h, vec![PastTurn { question: "Why?".into(), answer: "Safety [1].".into() }]);
        let turns = cat.turns(id).unwrap();
        assert_eq!(citations_of(&turns[0]), vec![cite]);
        assert_eq!(turns[0].model.as_deref(), Some("m"));
        assert_eq!(cat.conversation(id).unwrap().unwrap().title, "What is the GIL?");
    }
}
