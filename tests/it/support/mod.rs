//! What several test areas share.

pub mod fake_api;
pub mod postgres;
pub mod service;
pub mod smtp;
pub mod web;
